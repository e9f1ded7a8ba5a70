"""SIP message text: parse and build what one UDP dialog needs (RFC 3261).

Deliberately small: start line, headers (with compact forms, folding and
comma-separated lists), body by Content-Length; the header values (name-addr,
SIP URI, Via, CSeq) are :mod:`router.stack.sipphone.headers`.  Messages are
immutable so a retransmission resends exactly the bytes that went out first.
No third-party SIP library: the caller must run anywhere the project's tests
run, with nothing to install.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from router.stack.sipphone.headers import (
    CSeq,
    NameAddr,
    SipParseError,
    SipUri,
    Via,
    split_header_list,
)

__all__ = [
    "BRANCH_MAGIC",
    "CSeq",
    "Header",
    "HeaderBuilder",
    "NameAddr",
    "SipMessage",
    "SipParseError",
    "SipRequest",
    "SipResponse",
    "SipUri",
    "Via",
    "build_response",
    "canonical_header_name",
    "new_branch",
    "new_call_id",
    "new_tag",
    "parse_message",
    "reason_phrase",
    "split_header_list",
]

BRANCH_MAGIC = "z9hG4bK"
"""RFC 3261 branch prefix: says the branch is unique per transaction."""

_COMPACT = {
    "i": "Call-ID",
    "m": "Contact",
    "e": "Content-Encoding",
    "l": "Content-Length",
    "c": "Content-Type",
    "f": "From",
    "s": "Subject",
    "k": "Supported",
    "t": "To",
    "v": "Via",
    "r": "Refer-To",
    "b": "Referred-By",
    "o": "Event",
    "u": "Allow-Events",
    "x": "Session-Expires",
    "a": "Accept-Contact",
    "j": "Reject-Contact",
    "d": "Request-Disposition",
}

_CANONICAL = {
    name.lower(): name
    for name in (
        "Via",
        "Max-Forwards",
        "From",
        "To",
        "Call-ID",
        "CSeq",
        "Contact",
        "Content-Type",
        "Content-Length",
        "Route",
        "Record-Route",
        "Allow",
        "Supported",
        "User-Agent",
        "Server",
        "Event",
        "Subscription-State",
        "Refer-To",
        "Referred-By",
        "WWW-Authenticate",
        "Proxy-Authenticate",
        "Allow-Events",
        "Reason",
    )
}

# Headers whose value may be a comma-separated list (RFC 3261 section 7.3.1);
# others (From, To, Refer-To, User-Agent, dates ...) may contain bare commas.
_LIST_HEADERS = frozenset(
    {"via", "route", "record-route", "contact", "allow", "supported", "require", "allow-events"}
)

_REASONS = {
    100: "Trying",
    180: "Ringing",
    181: "Call Is Being Forwarded",
    182: "Queued",
    183: "Session Progress",
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    415: "Unsupported Media Type",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    491: "Request Pending",
    500: "Server Internal Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Server Time-out",
    600: "Busy Everywhere",
    603: "Decline",
    604: "Does Not Exist Anywhere",
    606: "Not Acceptable",
}


def reason_phrase(status: int) -> str:
    """The usual reason phrase; a class name for codes not in the table."""
    if status in _REASONS:
        return _REASONS[status]
    return {1: "Provisional", 2: "Success", 3: "Redirect", 4: "Client Error"}.get(
        status // 100, "Server Error" if status // 100 == 5 else "Global Failure"
    )


def canonical_header_name(name: str) -> str:
    """Full, conventionally capitalised form of a header name (``v`` -> ``Via``)."""
    stripped = name.strip()
    low = stripped.lower()
    if low in _COMPACT:
        return _COMPACT[low]
    if low in _CANONICAL:
        return _CANONICAL[low]
    return stripped


def new_branch() -> str:
    """A fresh RFC 3261 transaction branch."""
    return BRANCH_MAGIC + secrets.token_hex(8)


def new_tag() -> str:
    """A fresh From/To tag (32 random bits are plenty per RFC 3261 section 19.3)."""
    return secrets.token_hex(6)


def new_call_id(host: str) -> str:
    """A globally unique Call-ID."""
    return f"{secrets.token_hex(12)}@{host}"


Header = tuple[str, str]


@dataclass(frozen=True, kw_only=True)
class SipMessage:
    """Headers and body shared by requests and responses.

    ``headers`` keeps order and repetition exactly; names are canonicalised
    (compact forms expanded) on parse.  Content-Length is computed on
    serialisation, never stored.
    """

    headers: tuple[Header, ...] = ()
    body: bytes = b""

    # -- header access ---------------------------------------------------------
    def header(self, name: str) -> str | None:
        """First value of a header (whole line value, not split on commas)."""
        want = canonical_header_name(name).lower()
        for k, v in self.headers:
            if k.lower() == want:
                return v
        return None

    def header_values(self, name: str) -> list[str]:
        """All values of a header; list headers (Via, Route, ...) split on commas."""
        want = canonical_header_name(name).lower()
        out: list[str] = []
        for k, v in self.headers:
            if k.lower() == want:
                if want in _LIST_HEADERS:
                    out.extend(split_header_list(v))
                else:
                    out.append(v)
        return out

    def require(self, name: str) -> str:
        value = self.header(name)
        if value is None:
            raise SipParseError(f"missing {canonical_header_name(name)} header")
        return value

    @property
    def call_id(self) -> str:
        return self.require("Call-ID").strip()

    @property
    def cseq(self) -> CSeq:
        return CSeq.parse(self.require("CSeq"))

    @property
    def from_(self) -> NameAddr:
        return NameAddr.parse(self.require("From"))

    @property
    def to(self) -> NameAddr:
        return NameAddr.parse(self.require("To"))

    @property
    def vias(self) -> list[Via]:
        return [Via.parse(v) for v in self.header_values("Via")]

    @property
    def top_via(self) -> Via:
        vias = self.vias
        if not vias:
            raise SipParseError("missing Via header")
        return vias[0]

    @property
    def contact(self) -> NameAddr | None:
        values = self.header_values("Contact")
        return NameAddr.parse(values[0]) if values and values[0] != "*" else None

    @property
    def content_type(self) -> str | None:
        value = self.header("Content-Type")
        return value.split(";")[0].strip().lower() if value else None

    def headers_matching(self, prefix: str) -> dict[str, str]:
        """Headers whose name starts with ``prefix`` (case-insensitive), e.g. ``X-``.

        Repeated headers are joined with ", " (their RFC 3261 equivalent form).
        """
        low = prefix.lower()
        out: dict[str, str] = {}
        for k, v in self.headers:
            if k.lower().startswith(low):
                out[k] = f"{out[k]}, {v}" if k in out else v
        return out

    def _header_bytes(self) -> bytes:
        lines = [f"{k}: {v}" for k, v in self.headers if k.lower() != "content-length"]
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


@dataclass(frozen=True, kw_only=True)
class SipRequest(SipMessage):
    method: str
    uri: str

    @property
    def start_line(self) -> str:
        return f"{self.method} {self.uri} SIP/2.0"

    def to_bytes(self) -> bytes:
        return (self.start_line + "\r\n").encode("utf-8") + self._header_bytes() + self.body


@dataclass(frozen=True, kw_only=True)
class SipResponse(SipMessage):
    status: int
    reason: str

    @property
    def start_line(self) -> str:
        return f"SIP/2.0 {self.status} {self.reason}"

    def to_bytes(self) -> bytes:
        return (self.start_line + "\r\n").encode("utf-8") + self._header_bytes() + self.body


def parse_message(data: bytes) -> SipRequest | SipResponse:
    """Parse one datagram.  Tolerates bare LF line ends and a missing Content-Length."""
    data = data.lstrip(b"\r\n")  # RFC 5626 keep-alive CRLFs may precede a message
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = data.partition(b"\n\n")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SipParseError(f"headers are not UTF-8: {exc}") from None
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or not lines[0].strip():
        raise SipParseError("empty message")
    start = lines[0].strip()
    headers: list[Header] = []
    for line in lines[1:]:
        if not line.strip():
            continue
        if line[0] in " \t":
            if not headers:
                raise SipParseError("continuation line before first header")
            k, v = headers[-1]
            headers[-1] = (k, f"{v} {line.strip()}")
            continue
        if ":" not in line:
            raise SipParseError(f"header line without colon: {line!r}")
        k, v = line.split(":", 1)
        headers.append((canonical_header_name(k), v.strip()))
    length_text = next((v for k, v in headers if k == "Content-Length"), None)
    if length_text is not None:
        try:
            length = int(length_text)
        except ValueError:
            raise SipParseError(f"bad Content-Length: {length_text!r}") from None
        if length > len(body):
            raise SipParseError(f"body shorter ({len(body)}) than Content-Length ({length})")
        body = body[:length]
    kept = tuple((k, v) for k, v in headers if k != "Content-Length")
    if start.startswith("SIP/"):
        bits = start.split(" ", 2)
        if len(bits) < 2 or bits[0].upper() != "SIP/2.0":
            raise SipParseError(f"bad status line: {start!r}")
        try:
            status = int(bits[1])
        except ValueError:
            raise SipParseError(f"bad status code: {start!r}") from None
        if not 100 <= status <= 699:
            raise SipParseError(f"status code out of range: {start!r}")
        return SipResponse(
            headers=kept, body=bytes(body), status=status, reason=bits[2] if len(bits) > 2 else ""
        )
    bits = start.split(" ")
    if len(bits) != 3 or bits[2].upper() != "SIP/2.0":
        raise SipParseError(f"bad request line: {start!r}")
    return SipRequest(headers=kept, body=bytes(body), method=bits[0].upper(), uri=bits[1])


class HeaderBuilder:
    """Convenience for assembling a header tuple in order."""

    def __init__(self) -> None:
        self.items: list[Header] = []

    def add(self, name: str, value: object) -> HeaderBuilder:
        self.items.append((canonical_header_name(name), str(value)))
        return self

    def extend(self, headers: Mapping[str, str] | Sequence[Header]) -> HeaderBuilder:
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        for k, v in pairs:
            self.add(k, v)
        return self

    def build(self) -> tuple[Header, ...]:
        return tuple(self.items)

    def __iter__(self) -> Iterator[Header]:
        return iter(self.items)


def build_response(
    request: SipRequest,
    status: int,
    reason: str | None = None,
    *,
    to_tag: str | None = None,
    extra: Sequence[Header] = (),
    body: bytes = b"",
    content_type: str | None = None,
) -> SipResponse:
    """A response to ``request`` per RFC 3261 section 8.2.6.2.

    Copies every Via, From, Call-ID and CSeq; copies To, adding ``to_tag`` when
    the request's To has none (and the status is not 100).
    """
    hb = HeaderBuilder()
    for v in request.header_values("Via"):
        hb.add("Via", v)
    hb.add("From", request.require("From"))
    to_text = request.require("To")
    if to_tag and status != 100 and NameAddr.parse(to_text).tag is None:
        to_text = str(NameAddr.parse(to_text).with_tag(to_tag))
    hb.add("To", to_text)
    hb.add("Call-ID", request.require("Call-ID"))
    hb.add("CSeq", request.require("CSeq"))
    hb.extend(extra)
    if body and content_type:
        hb.add("Content-Type", content_type)
    return SipResponse(
        headers=hb.build(),
        body=body,
        status=status,
        reason=reason if reason is not None else reason_phrase(status),
    )
