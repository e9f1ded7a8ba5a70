"""The caller against sipp, an independent SIP implementation (Debian sip-tester).

sipp runs ``sipp_uas_refer.xml``: it answers, checks the SDP offer, lets the
caller press keys (``-rtp_echo`` sends the RTP back, so the caller sees its
own RFC 4733 events return), sends REFER with X- headers, requires 202 and two
NOTIFYs with the right sipfrags, then hangs up.  sipp exits 0 only if every
message matched.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
from pathlib import Path

import pytest

from router.stack.sipphone import CallOutcome, place_call


@pytest.fixture(autouse=True)
def _sipp_is_installed() -> None:
    """`make stack` installs sipp (Debian sip-tester); without it this test fails, never skips."""
    if shutil.which("sipp") is None:
        pytest.fail("sipp is not installed: run `python -m router.stack.install` (sip-tester)")


HERE = Path(__file__).parent


def _free_udp_port(*, pair: bool = False) -> int:
    """An unused UDP port on 127.0.0.1 (and port + 2 free too when ``pair``)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port: int = s.getsockname()[1]
        if not pair:
            return port
        if port + 2 > 65535:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s2:
            try:
                s2.bind(("127.0.0.1", port + 2))
            except OSError:
                continue
        return port
    raise RuntimeError("no free UDP port")


async def _run_sipp(tmp_path: Path, scenario: str) -> tuple[asyncio.subprocess.Process, int]:
    shutil.copy(HERE / scenario, tmp_path / scenario)
    sip_port = _free_udp_port()
    media_port = _free_udp_port(pair=True)  # sipp echoes audio on it and video on +2
    out = (tmp_path / "sipp.out").open("wb")
    try:
        proc = await asyncio.create_subprocess_exec(
            "sipp", "-sf", scenario, "-i", "127.0.0.1", "-p", str(sip_port),
            "-mp", str(media_port), "-rtp_echo", "-m", "1", "-nostdin",
            "-timeout", "30s", "-timeout_error", "-trace_err", "-trace_msg",
            cwd=tmp_path, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out,
        )  # fmt: skip
    finally:
        out.close()
    return proc, sip_port


async def _finish(proc: asyncio.subprocess.Process, tmp_path: Path) -> tuple[int, str]:
    try:
        rc = await asyncio.wait_for(proc.wait(), 15)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return rc, _read_logs(tmp_path)


def _read_logs(tmp_path: Path) -> str:
    """sipp's message and error logs, for the failure message."""
    return "\n".join(
        f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}"
        for p in sorted(tmp_path.glob("*.log"))
    )


async def test_caller_against_sipp_uas(tmp_path: Path) -> None:
    proc, port = await _run_sipp(tmp_path, "sipp_uas_refer.xml")
    try:
        report = await place_call(
            f"sip:+15105550000@127.0.0.1:{port}",
            keys="0.5s 1 2",
            key_gap_s=0.3,
            notify_status=200,
            notify_delay_s=0.3,
            timeout_s=25,
        )
    finally:
        rc, logs = await _finish(proc, tmp_path)
    assert rc == 0, f"sipp failed ({rc}):\n{logs}\n{report.summary()}"
    assert report.outcome is CallOutcome.REMOTE_BYE, report.summary()
    assert report.errors == (), report.summary()
    assert report.provisional == (100, 180)
    assert [k.digit for k in report.keys] == ["1", "2"]
    ref = report.refer
    assert ref is not None
    assert ref.refer_to_uri == "sip:+15105550111@127.0.0.1:5099"
    assert dict(ref.x_headers) == {"X-Transfer-Reason": "menu-choice", "X-Lk-Test": "sipp"}
    assert [(n.status, n.response_status) for n in ref.notifies] == [(100, 200), (200, 200)]
    assert report.refer_at is not None and report.answered_at is not None
    assert report.refer_at > report.keys[-1].finished_at
    # sipp echoed our RTP: the events came back as two distinct presses
    assert report.audio.dtmf_received == ("1", "2")
    assert report.audio.audio_packets > 10 and report.audio.voiced_packets == 0
