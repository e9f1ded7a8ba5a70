"""The soak samples the router's whole process tree, so the process executor is not flattered.

Real processes: a parent that forks children which share its pages (as livekit-agents'
forkserver forks job processes), one of which burns CPU and ends before the sample.
"""

from __future__ import annotations

import subprocess
import sys
import time

import psutil

from bench.common import slope
from bench.soak.check import per_call_ended
from bench.soak.processes import summary, tree_figures

# a parent holding 40 MB, two forked children sharing it, a third that burns CPU and ends
PARENT = """
import os, sys, time
ballast = b"x" * (40 * 2**20)
burner = os.fork()
if burner == 0:
    t = time.process_time()
    while time.process_time() - t < 0.3:
        pass
    os._exit(0)
os.waitpid(burner, 0)
for _ in range(2):
    if os.fork() == 0:
        time.sleep(60)
        os._exit(0)
print("ready", flush=True)
time.sleep(60)
"""


def test_the_tree_counts_its_children_and_their_shared_pages_once() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None and parent.stdout.readline().strip() == "ready"
        figures = tree_figures(parent.pid)
        assert figures["children"] == 2
        # each child's RSS shows the 40 MB it shares: the sum of RSS counts it three times,
        # PSS once (with some slack for the interpreter's own pages)
        assert figures["tree_rss_kb"] > 3 * 40 * 1024
        assert figures["tree_pss_kb"] < 2 * 40 * 1024
        assert figures["child_uss_max_kb"] < 20 * 1024
        # the burner ended and was reaped: its CPU is in its parent's children times
        assert figures["tree_cpu_s"] >= 0.3
    finally:
        for p in psutil.Process(parent.pid).children(recursive=True):
            p.kill()
        parent.kill()
        parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()


def test_a_process_gone_has_no_figures() -> None:
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    time.sleep(0.1)
    assert tree_figures(done.pid) == {}


def test_the_summary_fits_growth_on_the_whole_tree_and_cpu_after_warmup() -> None:
    samples = [
        {
            "ended": float(n),
            "up": 10.0,
            "tree_rss_kb": 4_000_000.0,
            "tree_pss_kb": 700_000.0 + 30.0 * n,
            "children": 12.0,
            "children_rss_kb": 3_500_000.0,
            "child_rss_max_kb": 390_000.0,
            "child_uss_max_kb": 40_000.0,
            "tree_cpu_s": 5.0 + 0.4 * n + (100.0 if n < 50 else 0.0),  # start-up: not counted
        }
        for n in range(0, 200, 5)
    ]
    out = summary(samples, 50, lambda s, what: per_call_ended(s, what, slope))
    assert out is not None
    assert out.tree_pss_kb_per_call_after_warmup == 30.0
    assert out.cpu_s_per_call_ended_after_warmup == 0.4
    assert out.children_max == 12 and out.child_uss_mb_max == 39.1
    assert summary([{"ended": 1.0, "up": 1.0}], 0, lambda s, what: None) is None
