"""The router's other processes, sampled beside its main one, so that no executor flatters.

Under `--executor process` livekit-agents runs each call in a job process of its own
(started by its forkserver, a child of the router): the main process's RSS then says
little, the calls' memory is in the job processes. Each sample of the soak
(`bench/soak/run.py`) adds, from psutil:

- ``children``: the router's descendant processes (job processes, the forkserver and
  multiprocessing's resource tracker), ``children_rss_kb`` their RSS summed (KiB) and
  ``child_rss_max_kb`` the largest one's;
- ``tree_rss_kb``: the main process's RSS plus ``children_rss_kb``. Job processes are
  forked from the forkserver and share most of their pages with it, so a sum of RSS
  counts those pages once per process: ``tree_pss_kb`` (proportional set size: each
  shared page divided among its sharers, /proc/PID/smaps_rollup) is the tree's real
  footprint, and ``child_uss_max_kb`` the most memory one process holds alone (USS);
- ``tree_cpu_s``: CPU seconds (user + system) of the whole tree since it started,
  counting the processes that have ended too (a process's reaped children's times are
  in its own `children_user`/`children_system`, /proc/PID/stat fields 16-17).

`summary` turns the samples after warm-up into the result's ``processes`` figures
(`ProcessFigures`, bench/soak/figures.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import psutil

from bench.soak.figures import ProcessFigures

__all__ = ["summary", "tree_figures"]


def _cpu_s(p: psutil.Process) -> float:
    t = p.cpu_times()
    return t.user + t.system + t.children_user + t.children_system


def tree_figures(pid: int) -> dict[str, float]:
    """The figures above for the process `pid` (an empty dict once it is gone)."""
    try:
        root = psutil.Process(pid)
        children = root.children(recursive=True)
        cpu = _cpu_s(root)
        mem = root.memory_full_info()
    except psutil.Error:
        return {}
    rss: list[float] = []
    pss = uss = 0.0
    for p in children:
        try:
            info = p.memory_full_info()
            cpu += _cpu_s(p)
        except psutil.Error:  # ended between the listing and now: its parent has its times
            continue
        rss.append(info.rss / 1024)
        pss += info.pss / 1024
        uss = max(uss, info.uss / 1024)
    return {
        "children": float(len(rss)),
        "children_rss_kb": sum(rss),
        "child_rss_max_kb": max(rss, default=0.0),
        "child_uss_max_kb": uss,
        "tree_rss_kb": mem.rss / 1024 + sum(rss),
        "tree_pss_kb": mem.pss / 1024 + pss,
        "tree_cpu_s": round(cpu, 2),
    }


def summary(
    samples: Sequence[Mapping[str, float]],
    warmup_calls: int,
    per_call_ended: Callable[[Sequence[Mapping[str, float]], str], float | None],
) -> ProcessFigures | None:
    """The whole tree's memory and CPU: the PSS growth per call ended after warm-up of
    the tree (`per_call_ended`, the soak's own fit), the children's peaks, and the
    tree's CPU seconds per call ended after warm-up (start-up left out); None when no
    sample has the tree's figures."""
    have = [s for s in samples if "tree_rss_kb" in s]
    if not have:
        return None
    late = [s for s in have if s["ended"] >= warmup_calls]
    growth = per_call_ended(late, "tree_pss_kb")
    first, last = (late[0], late[-1]) if late else (have[0], have[-1])
    calls = last["ended"] - first["ended"]
    return ProcessFigures(
        tree_pss_kb_per_call_after_warmup=round(growth, 2) if growth is not None else None,
        tree_pss_mb_max=round(max(s["tree_pss_kb"] for s in have) / 1024, 1),
        tree_rss_mb_max=round(max(s["tree_rss_kb"] for s in have) / 1024, 1),
        children_max=int(max(s["children"] for s in have)),
        children_rss_mb_max=round(max(s["children_rss_kb"] for s in have) / 1024, 1),
        child_rss_mb_max=round(max(s["child_rss_max_kb"] for s in have) / 1024, 1),
        child_uss_mb_max=round(max(s["child_uss_max_kb"] for s in have) / 1024, 1),
        cpu_s_per_call_ended_after_warmup=(
            round((last["tree_cpu_s"] - first["tree_cpu_s"]) / calls, 3) if calls else None
        ),
    )
