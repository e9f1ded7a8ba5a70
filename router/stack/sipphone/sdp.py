"""The one SDP offer a test phone makes, and reading the answer (RFC 4566/3264).

Only what an audio call over UDP/RTP needs: connection address, the first
audio m-line's port and payload types, rtpmap/fmtp, direction.  The offer is
PCMU/8000 plus telephone-event/8000 because that is what LiveKit's SIP bridge
needs for audio and RFC 4733 DTMF.
"""

from __future__ import annotations

from dataclasses import dataclass

from router.core.errors import ProtocolError

__all__ = ["SdpError", "SdpMedia", "build_offer", "parse_sdp"]


class SdpError(ProtocolError):
    """An SDP body without a usable audio stream."""


@dataclass(frozen=True)
class SdpMedia:
    """The audio stream described by an SDP body."""

    address: str
    """Connection address for RTP (media-level c= wins over session-level)."""
    port: int
    """0 means the stream was rejected."""
    payload_types: tuple[int, ...]
    rtpmap: dict[int, str]
    """payload type -> ``encoding/clock[/channels]`` as written (``PCMU/8000``)."""
    fmtp: dict[int, str]
    direction: str = "sendrecv"

    def payload_type_for(self, encoding: str, clock: int = 8000) -> int | None:
        """First offered payload type whose rtpmap names ``encoding/clock``.

        Static payload types without an rtpmap (0 = PCMU, 8 = PCMA) count too.
        """
        want = f"{encoding}/{clock}".lower()
        for pt in self.payload_types:
            name = self.rtpmap.get(pt)
            if name is None:
                name = {0: "PCMU/8000", 8: "PCMA/8000"}.get(pt, "")
            if name.lower().split("/")[:2] == want.split("/"):
                return pt
        return None

    @property
    def on_hold(self) -> bool:
        return self.direction in ("sendonly", "inactive") or self.address in ("0.0.0.0", "::")


def build_offer(
    address: str,
    rtp_port: int,
    *,
    session_id: int,
    version: int = 1,
    event_payload_type: int = 101,
    user_agent: str = "livekit-menu-router-caller",
) -> bytes:
    """Offer PCMU (payload 0) and telephone-event with 20 ms packets."""
    ip_ver = "IP6" if ":" in address else "IP4"
    lines = [
        "v=0",
        f"o=- {session_id} {version} IN {ip_ver} {address}",
        f"s={user_agent}",
        f"c=IN {ip_ver} {address}",
        "t=0 0",
        f"m=audio {rtp_port} RTP/AVP 0 {event_payload_type}",
        "a=rtpmap:0 PCMU/8000",
        f"a=rtpmap:{event_payload_type} telephone-event/8000",
        f"a=fmtp:{event_payload_type} 0-16",
        "a=ptime:20",
        "a=sendrecv",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def parse_sdp(body: bytes) -> SdpMedia:
    """Read the first audio stream of an SDP body."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SdpError(f"SDP is not UTF-8: {exc}") from None
    session_addr: str | None = None
    session_dir = "sendrecv"
    media_addr: str | None = None
    port: int | None = None
    pts: tuple[int, ...] = ()
    rtpmap: dict[int, str] = {}
    fmtp: dict[int, str] = {}
    direction: str | None = None
    in_audio = False
    seen_audio = False
    for raw in text.splitlines():
        line = raw.strip()
        if len(line) < 2 or line[1] != "=":
            continue
        kind, value = line[0], line[2:]
        if kind == "m":
            in_audio = False
            bits = value.split()
            if bits and bits[0] == "audio" and not seen_audio:
                if len(bits) < 4:
                    raise SdpError(f"bad m-line: {line!r}")
                try:
                    port = int(bits[1].split("/")[0])
                    pts = tuple(int(p) for p in bits[3:])
                except ValueError:
                    raise SdpError(f"bad m-line: {line!r}") from None
                in_audio = seen_audio = True
            continue
        if kind == "c":
            bits = value.split()
            if len(bits) < 3:
                raise SdpError(f"bad c-line: {line!r}")
            addr = bits[2].split("/")[0]
            if in_audio:
                media_addr = addr
            elif not seen_audio:
                session_addr = addr
            continue
        if kind != "a":
            continue
        name, _, arg = value.partition(":")
        if name in ("sendrecv", "sendonly", "recvonly", "inactive"):
            if in_audio:
                direction = name
            elif not seen_audio:
                session_dir = name
        elif in_audio and name in ("rtpmap", "fmtp"):
            pt_text, _, rest = arg.partition(" ")
            try:
                pt = int(pt_text)
            except ValueError:
                continue
            (rtpmap if name == "rtpmap" else fmtp)[pt] = rest.strip()
    if port is None:
        raise SdpError("no audio m-line")
    address = media_addr or session_addr
    if address is None:
        raise SdpError("no connection address")
    return SdpMedia(
        address=address,
        port=port,
        payload_types=pts,
        rtpmap=rtpmap,
        fmtp=fmtp,
        direction=direction or session_dir,
    )
