"""The call's audio both ways: a 20 ms RTP clock out, keys among its packets, what arrives metered.

Out: silence (PCMU) or the next RFC 4733 key packet every 20 ms, like a phone's DSP,
to the address the dialog's SDP answer gave; a key's future resolves once its last
end packet is out. In: every packet metered (`AudioMeter`: the first audible one, the
level) and, when asked, recorded. The asyncio side of `rtp.py`'s sans-I/O transmitter.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable

from router.stack.sipphone.dialog import CallError, Dialog
from router.stack.sipphone.media import AudioMeter, WavRecorder
from router.stack.sipphone.report import Address, SentKey
from router.stack.sipphone.rtp import PCMU_PAYLOAD_TYPE, KeyHandle, RtpTransmitter

__all__ = ["RtpStream"]

PACKET_INTERVAL_S = 0.020
"""One RTP packet of 20 ms of audio (the PCMU ptime the offer gives)."""


class RtpStream:
    """One call's RTP: the sender task, the keys queued on it, the meter and the recorder."""

    def __init__(
        self,
        dialog: Dialog,
        *,
        send_audio: bool,
        audio_threshold_rms: float,
        record: bool,
        on_first_audio: Callable[[], None],
    ) -> None:
        self._dialog = dialog
        self._send_audio = send_audio
        self._on_first_audio = on_first_audio
        self.transport: asyncio.DatagramTransport | None = None
        """The RTP socket, once bound (the phone binds it)."""
        self.task: asyncio.Task[None] | None = None
        """The 20 ms sender, once the answer gave media."""
        self._tx: RtpTransmitter | None = None
        self.packets_sent = 0
        self._key_waiters: list[tuple[KeyHandle, asyncio.Future[SentKey], list[float]]] = []
        self.keys_sent: list[SentKey] = []
        self.meter = AudioMeter(audio_threshold_rms)
        self.recorder = WavRecorder() if record else None

    @property
    def sending(self) -> bool:
        """Whether the sender runs (keys can be queued)."""
        return self._tx is not None and self.task is not None

    def queue_key(self, digit: str, duration_ms: int) -> asyncio.Future[SentKey]:
        """Queue one RFC 4733 key; the future resolves when its last end packet is out.
        Raises CallError when the sender does not run."""
        if self._tx is None or self.task is None:
            raise CallError("no RTP stream to send a key on")
        handle = self._tx.queue_key(digit, duration_ms=duration_ms)
        fut: asyncio.Future[SentKey] = asyncio.get_running_loop().create_future()
        self._key_waiters.append((handle, fut, []))
        return fut

    def start(self, event_pt: int) -> None:
        """The answer (or a re-INVITE) gave media: start the clock, or change the event's
        payload type (RFC 4733 `telephone-event`) of the one running."""
        if self._tx is None:
            self._tx = RtpTransmitter(
                ssrc=secrets.randbits(32),
                sequence=secrets.randbelow(0x8000),
                timestamp=secrets.randbits(31),
                event_payload_type=event_pt,
            )
            self.task = asyncio.get_running_loop().create_task(self._sender())
        else:
            self._tx.event_payload_type = event_pt

    def stop(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()

    def fail_key_waiters(self) -> None:
        """The call ended: every key still queued fails with CallError."""
        for _h, fut, _t in self._key_waiters:
            if not fut.done():
                fut.set_exception(CallError("call ended before the key was sent"))
                fut.exception()  # retrieved: the waiter, if any, still gets it
        self._key_waiters.clear()

    def on_error(self, exc: Exception) -> None:
        if isinstance(exc, ConnectionRefusedError):
            return  # the far end closed its RTP port; normal at hangup
        self._dialog.note(f"RTP socket error: {exc!r}")

    def on_datagram(self, data: bytes, addr: Address) -> None:
        sdp = self._dialog.media
        media = sdp.remote_media or sdp.early_media
        first = self.meter.receive(
            data,
            time.monotonic(),
            pcmu_payload_type=media.payload_type_for("PCMU") if media else PCMU_PAYLOAD_TYPE,
            event_payload_type=sdp.event_payload_type,
            recorder=self.recorder,
        )
        if first:
            self._on_first_audio()

    async def _sender(self) -> None:
        """A 20 ms clock: silence or the next key packet, like a phone's DSP."""
        loop = asyncio.get_running_loop()
        tx = self._tx
        assert tx is not None
        next_t = loop.time()
        while True:
            dest = self._dialog.media.remote_rtp
            media = self._dialog.media.remote_media
            sending = (
                dest is not None
                and media is not None
                and not media.on_hold
                and media.direction != "recvonly"
            )
            if tx.busy or self._send_audio:
                pkt = tx.tick()
                if sending and dest is not None and self.transport is not None:
                    if not self.transport.is_closing():
                        self.transport.sendto(pkt.encode(), dest)
                        self.packets_sent += 1
            else:
                tx.skip()  # the sampling clock runs on while we stay quiet
            self._settle_keys()
            next_t += PACKET_INTERVAL_S
            delay = next_t - loop.time()
            if delay < -0.2:  # the loop stalled: resync rather than burst
                next_t = loop.time()
                delay = 0.0
            await asyncio.sleep(max(0.0, delay))

    def _settle_keys(self) -> None:
        now = time.monotonic()
        still: list[tuple[KeyHandle, asyncio.Future[SentKey], list[float]]] = []
        for handle, fut, times in self._key_waiters:
            if handle.started and not times:
                times.append(now)
            if handle.finished:
                sent = SentKey(
                    digit=handle.digit,
                    event=handle.event,
                    sent_at=times[0] if times else now,
                    finished_at=now,
                    rtp_timestamp=handle.rtp_timestamp or 0,
                    first_sequence=handle.first_sequence or 0,
                    packets=handle.packets_sent,
                )
                self.keys_sent.append(sent)
                if not fut.done():
                    fut.set_result(sent)
            else:
                still.append((handle, fut, times))
        self._key_waiters = still
