"""The call's media negotiated by SDP offer and answer (RFC 3264): our offer (its session
id, its version raised by each new offer), the far end's answer or early media, where our
RTP goes and which payload type carries keys (RFC 4733). Sans-I/O: it builds and reads SDP.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from router.stack.sipphone.actions import MediaUpdated
from router.stack.sipphone.report import Address
from router.stack.sipphone.sdp import SdpError, SdpMedia, build_offer, parse_sdp

__all__ = ["MediaNegotiation"]


class MediaNegotiation:
    """One call's SDP: `local_host` is the address offered; `note(text)` tells the report
    what was wrong with an answer."""

    def __init__(self, local_host: str, note: Callable[[str], None]) -> None:
        self.local_host = local_host
        self._note = note
        self._session_id = secrets.randbelow(2**31)
        self._version = 1
        self.local_rtp: Address = (local_host, 0)
        """Our RTP socket's address (port 0 until it is bound)."""
        self.event_payload_type = 101
        """The payload type of RFC 4733 keys: ours, then the answer's."""
        self.remote_media: SdpMedia | None = None
        self.early_media: SdpMedia | None = None
        """The SDP of a provisional answer (183), used when the 2xx carries none."""
        self.remote_rtp: Address | None = None

    def offer(self) -> bytes:
        """Our SDP offer (PCMU and telephone-event), at its current version."""
        return build_offer(
            self.local_host,
            self.local_rtp[1],
            session_id=self._session_id,
            version=self._version,
            event_payload_type=self.event_payload_type,
        )

    def new_offer(self) -> bytes:
        """The offer again with its version raised (an answer to a re-INVITE)."""
        self._version += 1
        return self.offer()

    def read(self, body: bytes, where: str) -> SdpMedia | None:
        """The SDP in `body`; None, noted as bad SDP `where` ("in 183"), if unreadable."""
        try:
            return parse_sdp(body)
        except SdpError as exc:
            self._note(f"bad SDP {where}: {exc}")
            return None

    def provisional(self, status: int, body: bytes) -> None:
        """A provisional answer with SDP: early media, kept for a 2xx without any."""
        media = self.read(body, f"in {status}")
        if media is not None:
            self.early_media = media

    def final(self, body: bytes) -> MediaUpdated | None:
        """The 2xx's answer (else the early media's) applied (`apply`)."""
        if body:
            media = self.read(body, "answer")
        elif self.early_media is not None:
            media = self.early_media
        else:
            self._note("2xx without SDP answer")
            media = None
        return self.apply(media)

    def apply(self, media: SdpMedia | None) -> MediaUpdated | None:
        """The far end's media now `media`: where RTP goes, the key payload type; the
        update for the shell, or None if there is no stream to send to (noted)."""
        self.remote_media = media
        if media is None:
            return None
        if media.port == 0:
            self._note("audio stream rejected (port 0) in the answer")
            return None
        if media.payload_type_for("PCMU") is None:
            self._note(f"answer does not accept PCMU: payload types {media.payload_types}")
        ev = media.payload_type_for("telephone-event")
        if ev is None:
            self._note("answer has no telephone-event: RFC 4733 keys may be ignored")
        else:
            self.event_payload_type = ev
        self.remote_rtp = (media.address, media.port)
        return MediaUpdated(media, self.remote_rtp, self.event_payload_type)
