"""SIP header values: URIs, name-addr, Via, CSeq, parameters (RFC 3261 sections 20, 25.1).

Parsed once into frozen values (a message is immutable so a retransmission resends
exactly the bytes that went out first); :mod:`router.stack.sipphone.message` builds
whole messages from them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from router.core.errors import ProtocolError

__all__ = ["CSeq", "NameAddr", "SipParseError", "SipUri", "Via", "split_header_list"]


class SipParseError(ProtocolError):
    """Text that is not a SIP message this module understands."""


def _split_outside_quotes(value: str, sep: str) -> list[str]:
    """Split on ``sep`` except inside double quotes or ``<...>``."""
    parts: list[str] = []
    depth = 0
    quoted = False
    escaped = False
    start = 0
    for i, ch in enumerate(value):
        if escaped:
            escaped = False
            continue
        if quoted:
            if ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
            continue
        if ch == '"':
            quoted = True
        elif ch == "<":
            depth += 1
        elif ch == ">":
            depth = max(0, depth - 1)
        elif ch == sep and depth == 0:
            parts.append(value[start:i])
            start = i + 1
    parts.append(value[start:])
    return parts


def split_header_list(value: str) -> list[str]:
    """Split a comma-separated header value, honouring quotes and angle brackets."""
    return [p.strip() for p in _split_outside_quotes(value, ",") if p.strip()]


def _parse_params(text: str) -> tuple[tuple[str, str | None], ...]:
    """``;a=1;lr;b="x;y"`` -> (("a", "1"), ("lr", None), ("b", '"x;y"'))."""
    out: list[tuple[str, str | None]] = []
    for part in _split_outside_quotes(text, ";"):
        part = part.strip()
        if not part:
            continue
        if "=" in part:
            k, v = part.split("=", 1)
            out.append((k.strip(), v.strip()))
        else:
            out.append((part, None))
    return tuple(out)


def _format_params(params: Iterable[tuple[str, str | None]]) -> str:
    return "".join(f";{k}" if v is None else f";{k}={v}" for k, v in params)


def _param(params: Iterable[tuple[str, str | None]], name: str) -> str | None:
    low = name.lower()
    for k, v in params:
        if k.lower() == low:
            return v if v is not None else ""
    return None


# --------------------------------------------------------------------------- URI / addresses


@dataclass(frozen=True)
class SipUri:
    """``sip:user@host:port;params?headers``; IPv6 hosts are kept in brackets."""

    host: str
    user: str | None = None
    port: int | None = None
    scheme: str = "sip"
    params: tuple[tuple[str, str | None], ...] = ()
    headers: str = ""

    @classmethod
    def parse(cls, text: str) -> SipUri:
        text = text.strip()
        if ":" not in text:
            raise SipParseError(f"not a URI: {text!r}")
        scheme, rest = text.split(":", 1)
        scheme = scheme.lower()
        if scheme not in ("sip", "sips"):
            raise SipParseError(f"unsupported URI scheme: {scheme!r}")
        headers = ""
        if "?" in rest:
            rest, headers = rest.split("?", 1)
        user: str | None = None
        if "@" in rest:
            user, rest = rest.rsplit("@", 1)
        hostport, _, param_text = rest.partition(";")
        port: int | None = None
        if hostport.startswith("["):
            end = hostport.find("]")
            if end < 0:
                raise SipParseError(f"bad IPv6 host in {text!r}")
            host = hostport[: end + 1]
            tail = hostport[end + 1 :]
            if tail.startswith(":"):
                port = _parse_port(tail[1:], text)
        elif ":" in hostport:
            host, port_text = hostport.rsplit(":", 1)
            port = _parse_port(port_text, text)
        else:
            host = hostport
        if not host:
            raise SipParseError(f"no host in URI {text!r}")
        return cls(
            host=host,
            user=user,
            port=port,
            scheme=scheme,
            params=_parse_params(param_text),
            headers=headers,
        )

    def param(self, name: str) -> str | None:
        """Value of a URI parameter; ``""`` for a flag such as ``lr``; None if absent."""
        return _param(self.params, name)

    @property
    def bare_host(self) -> str:
        """Host without IPv6 brackets, for socket calls."""
        return self.host[1:-1] if self.host.startswith("[") else self.host

    def __str__(self) -> str:
        out = f"{self.scheme}:"
        if self.user is not None:
            out += f"{self.user}@"
        out += self.host
        if self.port is not None:
            out += f":{self.port}"
        out += _format_params(self.params)
        if self.headers:
            out += f"?{self.headers}"
        return out


def _parse_port(text: str, whole: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise SipParseError(f"bad port in {whole!r}") from None
    if not 0 < port < 65536:
        raise SipParseError(f"port out of range in {whole!r}")
    return port


@dataclass(frozen=True)
class NameAddr:
    """A From/To/Contact/Route/Refer-To value: display name, URI, header params.

    ``uri`` stays text so that Refer-To values with any scheme (``tel:``) and
    embedded ``?Replaces=`` survive untouched; :meth:`sip_uri` parses it.
    """

    uri: str
    display: str | None = None
    params: tuple[tuple[str, str | None], ...] = ()

    @classmethod
    def parse(cls, text: str) -> NameAddr:
        text = text.strip()
        if not text:
            raise SipParseError("empty address")
        lt = -1
        quoted = False
        for i, ch in enumerate(text):
            if ch == '"':
                quoted = not quoted
            elif ch == "<" and not quoted:
                lt = i
                break
        if lt >= 0:
            gt = text.find(">", lt)
            if gt < 0:
                raise SipParseError(f"unterminated <...> in {text!r}")
            display = text[:lt].strip() or None
            if display and display.startswith('"') and display.endswith('"'):
                display = display[1:-1]
            return cls(
                uri=text[lt + 1 : gt].strip(), display=display, params=_parse_params(text[gt + 1 :])
            )
        # addr-spec form: everything after the first ';' is a header parameter
        uri, _, rest = text.partition(";")
        return cls(uri=uri.strip(), params=_parse_params(rest))

    def param(self, name: str) -> str | None:
        return _param(self.params, name)

    @property
    def tag(self) -> str | None:
        return self.param("tag")

    def with_tag(self, tag: str) -> NameAddr:
        kept = tuple((k, v) for k, v in self.params if k.lower() != "tag")
        return replace(self, params=(*kept, ("tag", tag)))

    def sip_uri(self) -> SipUri:
        return SipUri.parse(self.uri)

    def __str__(self) -> str:
        out = f'"{self.display}" ' if self.display else ""
        return f"{out}<{self.uri}>{_format_params(self.params)}"


@dataclass(frozen=True)
class Via:
    """One Via entry: ``SIP/2.0/UDP host:port;branch=...;rport``."""

    host: str
    port: int | None = None
    transport: str = "UDP"
    params: tuple[tuple[str, str | None], ...] = ()

    @classmethod
    def parse(cls, text: str) -> Via:
        text = text.strip()
        proto, _, rest = text.partition(" ")
        bits = proto.split("/")
        if len(bits) != 3 or bits[0].upper() != "SIP":
            raise SipParseError(f"bad Via: {text!r}")
        sent_by, _, param_text = rest.strip().partition(";")
        sent_by = sent_by.strip()
        port: int | None = None
        if sent_by.startswith("["):
            end = sent_by.find("]")
            host = sent_by[: end + 1]
            if sent_by[end + 1 :].startswith(":"):
                port = _parse_port(sent_by[end + 2 :], text)
        elif ":" in sent_by:
            host, p = sent_by.rsplit(":", 1)
            port = _parse_port(p.strip(), text)
        else:
            host = sent_by
        return cls(
            host=host.strip(),
            port=port,
            transport=bits[2].strip().upper(),
            params=_parse_params(param_text),
        )

    def param(self, name: str) -> str | None:
        return _param(self.params, name)

    @property
    def branch(self) -> str | None:
        return self.param("branch")

    def __str__(self) -> str:
        port = f":{self.port}" if self.port is not None else ""
        return f"SIP/2.0/{self.transport} {self.host}{port}{_format_params(self.params)}"


@dataclass(frozen=True)
class CSeq:
    number: int
    method: str

    @classmethod
    def parse(cls, text: str) -> CSeq:
        bits = text.split()
        if len(bits) != 2:
            raise SipParseError(f"bad CSeq: {text!r}")
        try:
            number = int(bits[0])
        except ValueError:
            raise SipParseError(f"bad CSeq number: {text!r}") from None
        if not 0 <= number < 2**31:
            raise SipParseError(f"CSeq out of range: {text!r}")
        return cls(number, bits[1].upper())

    def __str__(self) -> str:
        return f"{self.number} {self.method}"


# --------------------------------------------------------------------------- messages
