"""The phone's asyncio shell: two UDP sockets, a timer, the 20 ms RTP clock.

:class:`SipCall` moves datagrams into the sans-I/O :class:`~.dialog.Dialog` and
carries out the actions it returns; it fires the dialog's timers, runs the RTP
sender (silence, or the next key packet), meters what arrives, and offers the
awaitable surface tests use (``wait_answered``, ``send_key``, ``hangup`` ...).
Every SIP decision is the dialog's; the NOTIFYs after a REFER, paced by the script,
are :mod:`~.notifying`'s.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from router.stack.sipphone.actions import (
    Action,
    Answered,
    Ended,
    MediaStopped,
    MediaUpdated,
    ReferArrived,
    Ringing,
    Send,
    TransactionDone,
)
from router.stack.sipphone.dialog import CallError, Dialog
from router.stack.sipphone.message import SipResponse
from router.stack.sipphone.notifying import notify_progress
from router.stack.sipphone.report import (
    Address,
    CallOutcome,
    CallReport,
    ReferReceived,
    SentKey,
    format_address,
)
from router.stack.sipphone.script import CallScript, KeyPress, follow_script, parse_keys, wait_any
from router.stack.sipphone.states import PhoneState
from router.stack.sipphone.stream import RtpStream
from router.stack.sipphone.transaction import TransactionKey

__all__ = ["SipCall", "place_call"]

log = logging.getLogger("router.stack.sipphone")


class _Datagram(asyncio.DatagramProtocol):
    """Hands datagrams to a callback; never lets a handler bug kill the socket."""

    def __init__(
        self,
        on_data: Callable[[bytes, Address], None],
        on_error: Callable[[Exception], None],
    ) -> None:
        self._on_data = on_data
        self._on_error = on_error

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        try:
            self._on_data(data, (str(addr[0]), int(addr[1])))
        except Exception as exc:  # a bug here must not stop the call
            log.exception("handler failed on datagram from %s", addr)
            self._on_error(exc)

    def error_received(self, exc: Exception) -> None:
        self._on_error(exc)


class SipCall:
    """One outgoing call: the SIP dialog, the RTP stream and the script around them.

    Use :func:`place_call` for a scripted call; use this class directly (as an
    async context manager, which always closes the sockets) when a test must
    react to what happens.  REFER/NOTIFY handling follows ``options`` in both.
    """

    def __init__(self, target: str, options: CallScript | None = None) -> None:
        self.target = target
        self.options = options or CallScript()
        opts = self.options
        self._dialog = Dialog(
            target,
            caller_id=opts.caller_id,
            display_name=opts.display_name,
            local_host=opts.local_host,
            invite_headers=opts.invite_headers,
            refer_status=opts.refer_status,
            bye_timeout_s=opts.bye_timeout_s,
        )
        self.call_id = self._dialog.call_id
        self.local_tag = self._dialog.local_tag

        self._sip: asyncio.DatagramTransport | None = None
        self._timer_task: asyncio.Task[None] | None = None
        self._timer_changed = asyncio.Event()
        self._tx_waiters: dict[TransactionKey, asyncio.Future[SipResponse | None]] = {}

        self._tasks: set[asyncio.Task[Any]] = set()
        self._recording: str | None = None
        self._closed = False

        self._answered = asyncio.Event()
        self._ringing = asyncio.Event()
        self._ended = asyncio.Event()
        self._first_audio = asyncio.Event()
        self._refer_event = asyncio.Event()
        self._notify_done = asyncio.Event()
        self._keys_done = asyncio.Event()
        self._stream = RtpStream(
            self._dialog,
            send_audio=opts.send_audio,
            audio_threshold_rms=opts.audio_threshold_rms,
            record=opts.record_to is not None,
            on_first_audio=self._first_audio.set,
        )

    # ------------------------------------------------------------------ context manager
    async def __aenter__(self) -> SipCall:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if not self._ended.is_set() and self.state is not PhoneState.IDLE:
            await self.hangup()
        await self.close()

    # ------------------------------------------------------------------ public API
    @property
    def state(self) -> PhoneState:
        return self._dialog.state

    @property
    def answered(self) -> bool:
        return self._answered.is_set()

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    @property
    def remote_tag(self) -> str | None:
        return self._dialog.remote_tag

    @property
    def started_at(self) -> float | None:
        return self._dialog.started_at

    @property
    def ringing_at(self) -> float | None:
        return self._dialog.ringing_at

    @property
    def answered_at(self) -> float | None:
        return self._dialog.answered_at

    @property
    def ended_at(self) -> float | None:
        return self._dialog.ended_at

    @property
    def remote_bye_at(self) -> float | None:
        return self._dialog.remote_bye_at

    async def start(self) -> None:
        """Bind the sockets and send the INVITE; returns without waiting for an answer."""
        self._dialog.start(time.monotonic())  # CallError when already started
        loop = asyncio.get_running_loop()
        opts = self.options
        uri = self._dialog.target_uri
        family = socket.AF_INET6 if ":" in opts.local_host else socket.AF_INET
        try:
            infos = await loop.getaddrinfo(
                uri.bare_host, uri.port or 5060, family=family, type=socket.SOCK_DGRAM
            )
            if not infos:
                raise OSError(f"cannot resolve {uri.host}")
            sockaddr = infos[0][4]
            target: Address = (str(sockaddr[0]), int(sockaddr[1]))
            self._sip, _ = await loop.create_datagram_endpoint(
                lambda: _Datagram(self._on_sip, self._on_sip_error),
                local_addr=(opts.local_host, 0),
                family=family,
            )
            self._stream.transport, _ = await loop.create_datagram_endpoint(
                lambda: _Datagram(self._stream.on_datagram, self._stream.on_error),
                local_addr=(opts.local_host, 0),
                family=family,
            )
        except OSError as exc:
            self._apply(
                self._dialog.fail(f"network setup failed: {exc}", str(exc), time.monotonic())
            )
            return
        self._timer_task = loop.create_task(self._run_timers())
        rtp = self._sockname(self._stream.transport)
        self._apply(self._dialog.connect(self._sockname(self._sip), rtp, target, time.monotonic()))

    async def wait_answered(self, timeout_s: float | None = None) -> bool:
        """True once answered; False if the call ended first or the timeout passed."""
        await wait_any([self._answered, self._ended], timeout_s)
        return self._answered.is_set()

    async def wait_first_audio(self, timeout_s: float | None = None) -> float | None:
        """time.monotonic() of the first non-silent packet, or None (ended / timeout)."""
        await wait_any([self._first_audio, self._ended], timeout_s)
        return self._stream.meter.first_audio_at

    async def wait_refer(self, timeout_s: float | None = None) -> ReferReceived | None:
        """The first REFER (already answered per options), or None."""
        await wait_any([self._refer_event, self._ended], timeout_s)
        refers = self._dialog.refers
        return refers[0].freeze() if refers else None

    async def wait_ended(self, timeout_s: float | None = None) -> bool:
        await wait_any([self._ended], timeout_s)
        return self._ended.is_set()

    async def send_key(self, digit: str, *, duration_ms: int = 160) -> SentKey:
        """Send one RFC 4733 key press; returns once its last end packet is out."""
        if self.state is not PhoneState.CONFIRMED or not self._stream.sending:
            raise CallError(f"cannot send a key in state {self.state.value!r}")
        return await self._stream.queue_key(digit, duration_ms)

    async def hangup(
        self, *, outcome: CallOutcome = CallOutcome.LOCAL_BYE, detail: str = ""
    ) -> None:
        """BYE when answered, CANCEL while ringing; waits up to bye_timeout_s for the answer.

        A second call while the first is still waiting waits with it.
        """
        if self._ended.is_set() or self.state is PhoneState.IDLE:
            return
        if self.state in (PhoneState.CANCELLING, PhoneState.TERMINATING):
            await wait_any([self._ended], self.options.bye_timeout_s + 0.5)
            return
        self._apply(self._dialog.hangup(time.monotonic(), outcome=outcome, detail=detail))
        # the dialog ends the call on the answer or on its own deadline (bye_timeout_s;
        # twice that when a 200 crosses our CANCEL and a BYE follows)
        await wait_any([self._ended], 2 * self.options.bye_timeout_s + 1.0)

    async def close(self) -> None:
        """Release everything; safe to call twice.  Lets in-flight NOTIFYs finish briefly."""
        if self._closed:
            return
        self._closed = True
        if not self._ended.is_set():
            self._apply(self._dialog.abandon(time.monotonic()))
        pending = [
            self._tx_waiters[k]
            for k in self._dialog.pending_transactions()
            if k in self._tx_waiters and not self._tx_waiters[k].done()
        ]
        if pending:
            await asyncio.wait(pending, timeout=0.5)
        self._stream.stop()
        for task in list(self._tasks):
            task.cancel()
        tasks: list[asyncio.Task[Any]] = list(self._tasks)
        for own in (self._stream.task, self._timer_task):
            if own is not None:
                own.cancel()
                tasks.append(own)
        await asyncio.gather(*tasks, return_exceptions=True)
        for fut in self._tx_waiters.values():
            if not fut.done():
                fut.set_result(None)
        self._stream.fail_key_waiters()
        for tr in (self._sip, self._stream.transport):
            if tr is not None:
                tr.close()
        recorder = self._stream.recorder
        if recorder is not None and self.options.record_to is not None:
            path = Path(self.options.record_to)
            try:
                recorder.write(path)
                self._recording = str(path)
            except OSError as exc:
                self._dialog.note(f"could not write {path}: {exc}")
        await asyncio.sleep(0)  # let the transports' close callbacks run

    def report(self) -> CallReport:
        """A snapshot; complete once the call has ended and been closed."""
        d = self._dialog
        now = time.monotonic()
        return CallReport(
            target=self.target,
            call_id=self.call_id,
            local_tag=self.local_tag,
            remote_tag=d.remote_tag,
            outcome=d.outcome or CallOutcome.ERROR,
            status=d.status,
            reason=d.reason,
            detail=d.detail if d.outcome else "call still in progress",
            started_at=d.started_at if d.started_at is not None else now,
            provisional=tuple(d.provisional),
            ringing_at=d.ringing_at,
            answered_at=d.answered_at,
            ended_at=d.ended_at if d.ended_at is not None else now,
            invite_retransmissions=d.invite_retransmissions,
            keys=tuple(self._stream.keys_sent),
            audio=self._stream.meter.freeze(self._stream.packets_sent),
            refers=tuple(r.freeze() for r in d.refers),
            bye_status=d.bye_status,
            remote_bye_at=d.remote_bye_at,
            errors=tuple(d.errors),
            local_sip=format_address(d.local_sip),
            local_rtp=format_address(d.media.local_rtp),
            remote_rtp=format_address(d.media.remote_rtp) if d.media.remote_rtp else None,
            recording=self._recording,
            trace=tuple(d.trace),
        )

    async def run_script(self) -> CallReport:
        """Place the call and follow ``options`` to the end; always closes."""
        try:
            await follow_script(self)
        finally:
            await self.close()
        return self.report()

    # ------------------------------------------------------------------ carrying out actions
    def _apply(self, actions: Sequence[Action]) -> None:
        for action in actions:
            match action:
                case Send(message=msg, dest=dest):
                    if self._sip is not None and not self._sip.is_closing():
                        data = msg.to_bytes()
                        self._sip.sendto(data, dest)
                        if log.isEnabledFor(logging.DEBUG):
                            text = data.decode("utf-8", "replace")
                            log.debug("> %s\n%s", format_address(dest), text)
                case Ringing():
                    self._ringing.set()
                case Answered():
                    self._answered.set()
                case MediaUpdated(event_payload_type=event_pt):
                    self._stream.start(event_pt)
                case MediaStopped():
                    self._stream.stop()
                case ReferArrived(refer=refer, accepted=accepted):
                    self._refer_event.set()
                    if accepted:
                        self._spawn(notify_progress(self, refer))
                    else:
                        self._notify_done.set()
                case TransactionDone(key=key, response=resp):
                    fut = self._tx_waiters.pop(key, None)
                    if fut is not None and not fut.done():
                        fut.set_result(resp)
                case Ended():
                    self._stream.fail_key_waiters()
                    self._ended.set()
        self._timer_changed.set()

    async def _run_timers(self) -> None:
        """Fire the dialog's timers (retransmissions, timer B, BYE and CANCEL waits)."""
        while True:
            deadline = self._dialog.next_deadline()
            self._timer_changed.clear()
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            if timeout is None or timeout > 0:
                await wait_any([self._timer_changed], timeout)
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                self._apply(self._dialog.handle_timer(now))

    def _tx_result(self, key: TransactionKey) -> asyncio.Future[SipResponse | None]:
        fut: asyncio.Future[SipResponse | None] = asyncio.get_running_loop().create_future()
        self._tx_waiters[key] = fut
        return fut

    # ------------------------------------------------------------------ helpers
    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            log.error("caller task failed: %r", exc, exc_info=exc)
            self._dialog.note(f"internal error: {exc!r}")

    @staticmethod
    def _sockname(tr: asyncio.DatagramTransport | None) -> Address:
        assert tr is not None
        name = tr.get_extra_info("sockname")
        return (str(name[0]), int(name[1]))

    # ------------------------------------------------------------------ SIP input
    def _on_sip_error(self, exc: Exception) -> None:
        if isinstance(exc, ConnectionRefusedError):
            msg = "ICMP port unreachable: nothing listens at the SIP target"
        else:
            msg = f"SIP socket error: {exc!r}"
        errors = self._dialog.errors
        if not errors or errors[-1] != msg:
            self._dialog.note(msg)

    def _on_sip(self, data: bytes, addr: Address) -> None:
        if log.isEnabledFor(logging.DEBUG) and data.strip():
            log.debug("< %s\n%s", format_address(addr), data.decode("utf-8", "replace"))
        self._apply(self._dialog.receive_datagram(data, addr, time.monotonic()))


async def place_call(
    target: str,
    *,
    keys: Sequence[KeyPress] | str = (),
    first_key_delay_s: float = 2.5,
    key_gap_s: float = 0.5,
    key_duration_ms: int = 160,
    refer_status: int = 202,
    notify_trying: bool = True,
    notify_status: int | None = 200,
    notify_delay_s: float = 0.5,
    hangup_after_s: float | None = None,
    cancel_after_ringing_s: float | None = None,
    hangup_after_audio_s: float | None = None,
    hangup_after_keys_s: float | None = None,
    hangup_after_notify_s: float | None = None,
    timeout_s: float = 60.0,
    bye_timeout_s: float = 4.0,
    record_to: str | Path | None = None,
    caller_id: str = "+15105550100",
    display_name: str | None = None,
    local_host: str = "127.0.0.1",
    invite_headers: Mapping[str, str] | Sequence[tuple[str, str]] = (),
    audio_threshold_rms: float = 200.0,
    send_audio: bool = True,
) -> CallReport:
    """Dial ``target`` (``sip:+15105550000@127.0.0.1:5060``), follow the script, report.

    ``keys`` is a string for :func:`parse_keys` (``"1"``, ``"1,2"``, ``"4s 1"``)
    or a sequence of :class:`KeyPress`.  The call ends on a remote BYE, a
    hangup trigger, a rejection or ``timeout_s``; it never raises for what the
    far end does (that goes in the report), only for bad arguments.
    """
    presses = (
        parse_keys(keys, duration_ms=key_duration_ms) if isinstance(keys, str) else tuple(keys)
    )
    headers = (
        tuple(invite_headers.items())
        if isinstance(invite_headers, Mapping)
        else tuple(invite_headers)
    )
    options = CallScript(
        keys=presses,
        first_key_delay_s=first_key_delay_s,
        key_gap_s=key_gap_s,
        refer_status=refer_status,
        notify_trying=notify_trying,
        notify_status=notify_status,
        notify_delay_s=notify_delay_s,
        hangup_after_s=hangup_after_s,
        cancel_after_ringing_s=cancel_after_ringing_s,
        hangup_after_audio_s=hangup_after_audio_s,
        hangup_after_keys_s=hangup_after_keys_s,
        hangup_after_notify_s=hangup_after_notify_s,
        timeout_s=timeout_s,
        bye_timeout_s=bye_timeout_s,
        record_to=record_to,
        caller_id=caller_id,
        display_name=display_name,
        local_host=local_host,
        invite_headers=headers,
        audio_threshold_rms=audio_threshold_rms,
        send_audio=send_audio,
    )
    return await SipCall(target, options).run_script()
