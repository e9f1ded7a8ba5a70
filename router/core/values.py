"""The values of the menu format, written once: their patterns and the rules that judge them.

The patterns are the strings the JSON Schema carries (`router.core.format` builds it
from them) and the loader matches; the rules say why one written value is wrong, in
the admin's words, with the fixed value as the hint where there is one. Each rule
judges one part of what was written (a header's name, or its value; a template as
written, not the sample it was tried with), so a finding points at that part without
anyone reading the message back. Time zones have their own module
(`router.core.timezones`). The checker's rules are the whole-file ones.
"""

from __future__ import annotations

from typing import NamedTuple

from router.core.durations import DURATION_PATTERN
from router.core.patterns import compiled

__all__ = [
    "DATE_PATTERN",
    "DAYS_PATTERN",
    "DAY_NAMES",
    "DURATION_PATTERN",
    "CALLER_PATTERN",
    "E164_PATTERN",
    "EXTENSION_PATTERN",
    "HEADER_NAME_PATTERN",
    "HEADER_VALUE_PATTERN",
    "HOURS_PATTERN",
    "KEY_PATTERN",
    "NAME_PATTERN",
    "NUMBER_PATTERN",
    "SCHEMES",
    "TARGET_PATTERN",
    "Finding",
    "header_name_problem",
    "header_problem",
    "header_value_problem",
    "caller_number_problem",
    "caller_pattern_problem",
    "number_key_problem",
    "sample_extension",
    "target_problem",
    "unknown_target",
]

# --- patterns (the schema and the loader use the very same strings) -----------------------

_E164 = r"\+[1-9][0-9]{7,14}"
"""A number in E.164 form: +, a country code (never 0), 8 to 15 digits in all."""
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]*$"
"""Names of menus, destinations, directories and schedules."""
KEY_PATTERN = r"^[0-9*#A-Da-d]$"
"""One keypad key."""
LANGUAGE_PATTERN = r"^(?!say$|audio$)[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$"
"""A language code (BCP 47 shaped: `en`, `es`, `es-419`, `pt-BR`); never `say` or `audio`,
so a prompt by language is told from `{say: ..., audio: ...}` by its keys alone."""
E164_PATTERN = rf"^{_E164}$"
"""One number in E.164 form."""
NUMBER_PATTERN = rf"^(default|{_E164})$"
"""Keys of `numbers`: a dialled number in E.164 form, or `default`."""
CALLER_PATTERN = rf"^(anonymous|{_E164}|\+[1-9][0-9]{{0,14}}\*)$"
"""A caller rule's `from`: a number in E.164 form, a prefix of numbers ending in `*`
(`+44*` a country, `+1510*` an area code), or `anonymous` (a withheld number)."""
EXTENSION_PATTERN = r"^([0-9xX]+|[0-9]+-[0-9]+)$"
"""Keys of a directory: `101`, `1xx` (x = any digit), or a range `200-249`."""
HEADER_NAME_PATTERN = r"^[Xx]-[A-Za-z0-9-]+$"
HEADER_VALUE_PATTERN = r"^[^\r\n\x00]*$"
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _any_case(word: str) -> str:
    """`mon` -> `[Mm][Oo][Nn]`: JSON Schema patterns (ECMA-262) have no inline flags."""
    return "".join(f"[{c.upper()}{c}]" for c in word)


_DAY = "(" + "|".join(_any_case(d) for d in DAY_NAMES) + ")"
DAYS_PATTERN = (
    rf"^({_DAY}(-{_DAY})?(\s*,\s*{_DAY}(-{_DAY})?)*"
    + "".join(f"|{_any_case(w)}" for w in ("daily", "weekdays", "weekends"))
    + ")$"
)
"""Keys of `hours`: `mon`, `mon-fri`, `sat, sun`, or `daily` / `weekdays` / `weekends`."""
HOURS_PATTERN = r"^\s*[0-9]{1,2}:[0-9]{2}\s*-\s*[0-9]{1,2}:[0-9]{2}\s*$"
"""An interval of a day, `HH:MM-HH:MM`."""
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
SCHEMES = ("tel:", "sip:", "sips:")
"""The URI schemes a transfer may go to."""
TARGET_PATTERN = r"^(tel:|sips?:|[A-Za-z_])"
"""A transfer target: a `tel:`/`sip:`/`sips:` URI, or the name of a destination."""

_E164_URI = rf"^tel:{_E164}$"
_ESCAPED = r"%[0-9A-Fa-f]{2}"
_USER = rf"(?:[A-Za-z0-9\-_.!~*'()&=+$,]|{_ESCAPED})+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_HOST = rf"(?:{_LABEL}(?:\.{_LABEL})*\.?|[0-9]{{1,3}}(?:\.[0-9]{{1,3}}){{3}}|\[[0-9A-Fa-f:.]+\])"
_PARAM = r";[A-Za-z0-9\-_.!~*'()%]+(?:=[A-Za-z0-9\-_.!~*'()%\[\]/:&+$]+)?"
_SIP_URI = rf"^sips?:({_USER})@({_HOST})(?::([0-9]{{1,5}}))?((?:{_PARAM})*)$"
_HEADER_NAME = HEADER_NAME_PATTERN
_HEADER_VALUE = HEADER_VALUE_PATTERN
_NAME = NAME_PATTERN
_EXTENSION = EXTENSION_PATTERN
_NUMBER = NUMBER_PATTERN
_PUNCTUATION = r"[\s().-]"
"""What people write between the digits of a phone number."""
_PHONE_LIKE = r"^\+?[0-9]{5,}$"
"""Digits that look like a phone number written without `tel:`."""
_NUMBER_LIKE = r"^\+?[0-9]{7,15}$"
"""Digits that look like a dialled number written without + or with punctuation."""


# --- rules ---------------------------------------------------------------------------------


class Finding(NamedTuple):
    """A value rule's verdict."""

    message: str
    hint: str | None


def target_problem(uri: str, *, ext: str | None = None) -> Finding | None:
    """Why `uri` is not `tel:+E164` or `sip:`/`sips:` `user@host[:port][;params]`, if it is not.

    With `ext`, `uri` is a directory's template (`tel:+1510555{ext}`): it is judged with
    `ext` filled in, and the finding names the template as written.
    """
    if ext is None:
        return _target_problem(uri, uri)
    found = _target_problem(uri.replace("{ext}", ext), uri)
    if found is None:
        return None
    return Finding(f"{found.message} (with {{ext}} = {ext})", found.hint)


def _target_problem(uri: str, shown: str) -> Finding | None:
    """`target_problem` of `uri`, naming it `shown` in the message."""
    if uri.startswith("tel:"):
        if compiled(_E164_URI).match(uri):
            return None
        number = uri[4:]
        digits = compiled(_PUNCTUATION).sub("", number)
        if not number.startswith("+"):
            return Finding(
                f"'{shown}' is not an E.164 number: it needs a + and the country code",
                f"e.g. tel:+{digits}" if digits.isdigit() else "e.g. tel:+15105550100",
            )
        if digits != number and digits[1:].isdigit():
            return Finding(
                f"'{shown}' has spaces or punctuation", f"write only digits: tel:{digits}"
            )
        if not number[1:].isdigit():
            return Finding(f"'{shown}' is not an E.164 number: only digits may follow tel:+", None)
        if number[1] == "0":
            return Finding(
                f"'{shown}' is not an E.164 number: a country code never starts with 0", None
            )
        count = len(number) - 1
        return Finding(f"'{shown}' has {count} digits; an E.164 number has 8 to 15", None)
    if uri.startswith(("sip:", "sips:")):
        return _sip_problem(uri, shown)
    return Finding(f"'{shown}' is not a tel: or sip: URI", None)


def _sip_problem(uri: str, shown: str) -> Finding | None:
    """Why `uri` is not `sip:user@host[:port][;params]`: what is missing, and the fixed value."""
    scheme, rest = uri.split(":", 1)
    if rest.startswith("//"):
        return Finding(f"'{shown}' has // after {scheme}:", f"write {scheme}:{rest[2:]}")
    if any(c.isspace() for c in uri):
        fixed = "".join(uri.split())
        return Finding(
            f"'{shown}' contains spaces",
            f"write {fixed}" if compiled(_SIP_URI).match(fixed) else None,
        )
    if "?" in uri:
        return Finding(
            f"'{shown}' carries URI headers (?...)", "use the transfer's `headers` instead"
        )
    user, at, host = rest.partition("@")
    if not at:
        # `sip:+15105550100` (an Asterisk DID) is a user without a host;
        # `sip:pbx.example.com` is a host without a user
        address, semi, params = rest.partition(";")
        params = semi + params
        if any(c in address for c in ".:[") and not address.lstrip("+").isdigit():
            return _no_user(shown, scheme, rest)
        hint = f"e.g. {scheme}:{address}@pbx.example.com{params}"
        if compiled(_E164_URI).match(f"tel:{address}"):
            hint += f"; or, to call the number itself, tel:{address}"
        return Finding(f"'{shown}' has no host: the @ and the address of the PBX are missing", hint)
    if not user:
        return _no_user(shown, scheme, host)
    if not host or host[0] in ";:":
        return Finding(
            f"'{shown}' has no host: the address of the PBX after the @ is missing",
            f"e.g. {scheme}:{user}@pbx.example.com{host}",
        )
    m = compiled(_SIP_URI).match(uri)
    if m is None:
        return Finding(f"'{shown}' is not a valid SIP URI", "write sip:user@host[:port][;params]")
    port = m.group(3)
    if port is not None and not 1 <= int(port) <= 65535:
        return Finding(f"'{shown}' has port {port}; ports run from 1 to 65535", None)
    # a parameter given twice (;transport=udp;transport=tcp): the far end picks one of them
    kept: dict[str, str] = {}
    for param in m.group(4).split(";")[1:]:
        name = param.split("=", 1)[0].lower()  # parameter names are case-insensitive
        if name in kept:
            fixed = uri[: m.start(4)] + "".join(f";{p}" for p in kept.values())
            return Finding(
                f"'{shown}' gives the parameter '{name}' twice", f"keep one, e.g. {fixed}"
            )
        kept[name] = param
    return None


def _no_user(shown: str, scheme: str, host: str) -> Finding:
    return Finding(
        f"'{shown}' has no user part: the name or number before the @ is missing",
        f"e.g. {scheme}:sales@{host}",
    )


def header_name_problem(name: str) -> Finding | None:
    """Why a SIP header of this name may not be sent with a transfer, if it may not."""
    if compiled(_HEADER_NAME).match(name):
        return None
    return Finding(
        f"header name '{name}' is not allowed",
        "only custom X- headers (letters, digits and -) may be set, e.g. X-Department",
    )


def header_value_problem(name: str, value: str) -> Finding | None:
    """Why this value may not be sent in header `name`, if it may not."""
    if compiled(_HEADER_VALUE).match(value):
        return None
    return Finding(
        f"the value of header '{name}' contains a line break", "header values are one line"
    )


def header_problem(name: str, value: str) -> Finding | None:
    """Why a SIP header may not be sent with a transfer (its name first), if it may not."""
    return header_name_problem(name) or header_value_problem(name, value)


def unknown_target(value: str) -> Finding:
    """`value` is neither a destination's name nor a URI: what it probably was."""
    hint = "names use letters, digits, _ and -; URIs start with tel:, sip: or sips:"
    digits = compiled(_PUNCTUATION).sub("", value)
    if compiled(_PHONE_LIKE).match(digits):
        hint = f"write a phone number as tel:+{digits.lstrip('+')} (E.164: + and the country code)"
    elif value.lower().startswith(SCHEMES):
        hint = "write the scheme in lowercase: " + value.split(":", 1)[0].lower() + ":"
    elif value.startswith("<") and value.endswith(">"):
        hint = f"write it without the angle brackets: {value[1:-1].strip()}"
    elif "@" in value:
        hint = f"a SIP address starts with sip: (sip:{value})"
    return Finding(f"'{value}' is neither a destination name nor a tel:/sip: URI", hint)


def number_key_problem(number: str) -> Finding | None:
    """Why a key of `numbers` is neither `default` nor a number in E.164 form, if it is not."""
    if compiled(_NUMBER).match(number):
        return None
    digits = compiled(_PUNCTUATION).sub("", number)
    hint = "write it in E.164 form: + and the country code, e.g. +15105550100"
    if digits.startswith("+0"):  # as `target_problem` says of tel:+0...
        hint = "a country code never starts with 0, e.g. +15105550100"
    elif compiled(_NUMBER_LIKE).match(digits):
        hint = f"write it in E.164 form: +, the country code, then {digits.lstrip('+')}"
    return Finding(f"'{number}' is not a dialled number or 'default'", hint)


_CALLER = CALLER_PATTERN


def caller_pattern_problem(text: str) -> Finding | None:
    """Why a caller rule's `from` is not an E.164 number, a prefix (`+1510*`) or `anonymous`."""
    if compiled(_CALLER).match(text):
        return None
    star = text.endswith("*")
    digits = compiled(_PUNCTUATION).sub("", text.rstrip("*"))
    if text.strip().lower() in ("anonymous", "withheld", "private", "restricted", "unknown"):
        hint = "write 'anonymous' for a withheld number"
    elif compiled(_NUMBER_LIKE).match(digits) or (star and digits.lstrip("+").isdigit()):
        fixed = "+" + digits.lstrip("+").lstrip("0") + ("*" if star else "")
        hint = f"write it in E.164 form: +, the country code, the digits ({fixed})"
    else:
        hint = "write a number (+15105550100), a prefix (+1510*) or anonymous"
    what = "prefix" if star else "number"
    if star and len(digits.lstrip("+")) > 15:
        return Finding(f"'{text}' is longer than any E.164 number", "E.164 has at most 15 digits")
    return Finding(f"'{text}' is not a caller's {what} in E.164 form or 'anonymous'", hint)


def caller_number_problem(text: str) -> Finding | None:
    """Why `text` is not one caller's number (E.164, or `anonymous`): `caller_pattern_problem`,
    where a prefix (`+1510*`) is refused, for a call comes from one number."""
    if text.endswith("*"):
        return Finding(
            f"'{text}' is a prefix, not a caller's number",
            "write the whole number in E.164 form, e.g. +15105550123, or anonymous",
        )
    return caller_pattern_problem(text)


def sample_extension(pattern: str) -> str:
    """The smallest extension a directory pattern stands for (to try `{ext}` templates with)."""
    if "-" in pattern:
        return pattern.split("-")[0]
    return pattern.replace("x", "0")
