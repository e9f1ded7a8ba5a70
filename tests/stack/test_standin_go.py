"""The SIP stand-in's own Go tests (router/stack/sipstandin/*_test.go), run with `go test`.

They cover what is easiest to show inside the stand-in: u-law and resampling, DTMF
codes, SDP offers, and that a caller's keys never wait behind its audio (keys were
lost in the kernel's socket buffer when the machine was saturated).
"""

from __future__ import annotations

import subprocess

from router.stack import install


def test_the_standins_go_tests_pass() -> None:
    go = install.find_go()
    proc = subprocess.run(
        [str(go), "test", "-count=1", "./..."],
        cwd=install.STANDIN_DIR,
        env=install._go_env({"CGO_ENABLED": "1"}),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "ok" in proc.stdout
