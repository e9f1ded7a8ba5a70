"""The transferee's NOTIFYs: how the transfer a REFER asked for went, told to its sender.

RFC 3515 section 2.4.4: the REFER's recipient reports the progress of the call it was
asked to make in NOTIFYs of the implicit `refer` subscription, each carrying a
`message/sipfrag` status line. The scripted phone makes no such call; it says what its
script (`CallScript.notify_trying`, `notify_status`, `notify_delay_s`) tells it to: a
`100 Trying` at once, then the final status once the delay has passed, and notes a
NOTIFY the far end refused or never answered.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from router.stack.sipphone.actions import Refer
from router.stack.sipphone.message import SipResponse
from router.stack.sipphone.states import PhoneState
from router.stack.sipphone.transaction import TX_TIMEOUT_S

if TYPE_CHECKING:
    from router.stack.sipphone.phone import SipCall

__all__ = ["notify_progress"]


async def notify_progress(call: SipCall, refer: Refer) -> None:
    """Send the NOTIFYs `call`'s script asks for after `refer`; the final one only while
    the call is still up. Sets the call's `_notify_done` when they are out."""
    opts = call.options
    t0 = time.monotonic()
    if opts.notify_trying:
        fut = _send(call, refer, 100, "active;expires=60")
        await asyncio.wait({fut}, timeout=max(opts.notify_delay_s, 0.01))
        _check_answer(call, fut, refer.notifies[-1].sipfrag)
    if opts.notify_status is not None:
        await asyncio.sleep(max(0.0, t0 + opts.notify_delay_s - time.monotonic()))
        if call.state is not PhoneState.CONFIRMED:
            return
        fut = _send(call, refer, opts.notify_status, "terminated;reason=noresource")
        await asyncio.wait({fut}, timeout=TX_TIMEOUT_S)
        _check_answer(call, fut, refer.notifies[-1].sipfrag)
    call._notify_done.set()


def _send(
    call: SipCall, refer: Refer, status: int, sub_state: str
) -> asyncio.Future[SipResponse | None]:
    """One NOTIFY sent; the future of its answer (None: none came)."""
    actions, key = call._dialog.notify(refer, status, sub_state, time.monotonic())
    fut = call._tx_result(key)
    call._apply(actions)
    return fut


def _check_answer(call: SipCall, fut: asyncio.Future[SipResponse | None], sipfrag: str) -> None:
    """Note a NOTIFY the far end refused or never answered."""
    if fut.done():
        resp = fut.result()
        if resp is None:
            call._dialog.note(f"no answer to NOTIFY {sipfrag!r}")
        elif resp.status >= 300:
            call._dialog.note(f"NOTIFY answered {resp.status} {resp.reason}")
