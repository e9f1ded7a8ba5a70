"""The report for a terminal: plain text, one section a concept."""

from __future__ import annotations

from router.admin.report.figures import Report

# --- text --------------------------------------------------------------------------------


def text(report: Report) -> str:
    """The report for a terminal."""
    out: list[str] = []
    w = out.append
    span = ""
    if report.since or report.until:
        span = f" from {report.since or 'the start'} until {report.until or 'the end'}"
    w(f"{report.calls:,} calls{span} in {', '.join(report.files) or 'no file'}")
    if report.outside:
        w(f"  ({report.outside:,} more records outside that time)")
    if report.damaged:
        w(f"  {report.damaged:,} damaged line(s) skipped:")
        for bad in report.damaged_lines:
            w(f"    {bad.where}: {bad.why}")
        if report.damaged > len(report.damaged_lines):
            w(f"    ... and {report.damaged - len(report.damaged_lines):,} more")
    if report.versions:
        w("")
        w("Menu file versions")
        for v in report.versions:
            current = " (the --menus file)" if v.version == report.menu_file else ""
            w(f"  {v.version}{current}: {v.calls:,} calls, {v.first[:16]} to {v.last[:16]}")
    if report.ends:
        w("")
        w("How calls ended")
        for end, n in report.ends.items():
            w(f"  {end:<20} {n:>9,}  {_pct(n, report.calls)}")
    if report.languages:
        w("")
        w("Calls by the caller's language (at the end of the call)")
        for language, n in report.languages.items():
            w(f"  {language:<20} {n:>9,}  {_pct(n, report.calls)}")
    gone = [m for m in report.menus if m.in_file is False]
    for m in report.menus:
        w("")
        note = ""
        if m.in_file is False:
            note = "  [not in the --menus file: from an older version]"
        w(f"Menu {m.name}{note}")
        w(
            f"  entered {m.entries:,} times by {m.calls:,} calls; "
            f"{m.gave_up:,} gave up here ({m.drop_off:.0%})"
        )
        for o in m.options:
            w(f"  key {o.key:<3} {o.count:>9,}  {o.share:6.1%}")
        w(f"  invalid entries {m.invalid:,}, no-input time-outs {m.no_input:,}")
        if m.limits:
            w("  limits reached: " + ", ".join(f"{k} {n:,}" for k, n in m.limits.items()))
        if m.ended:
            w("  ended here: " + ", ".join(f"{k} {n:,}" for k, n in m.ended.items()))
    if gone:
        w("")
        w(
            "Menus no longer in the --menus file (keys taken there are counted above): "
            + ", ".join(m.name for m in gone)
        )
    if report.destinations:
        w("")
        w("Transfers")
        for d in report.destinations:
            median = (
                ""
                if d.median_to_transfer_s is None
                else f", median {d.median_to_transfer_s:.1f} s after the call's start"
            )
            w(f"  {d.name}: {d.transfers:,}{median}")
            for outcome, n in d.outcomes.items():
                w(f"    {outcome.replace('_', ' '):<12} {n:>9,}  {_pct(n, d.transfers)}")
            if d.sip_statuses:
                w(
                    "    SIP statuses of failures: "
                    + ", ".join(f"{s} x{n:,}" for s, n in d.sip_statuses.items())
                )
    if report.paths:
        w("")
        exact = "" if report.paths_exact else " (approximate: too many distinct paths)"
        w(f"Most common paths{exact}")
        for p in report.paths:
            w(f"  {p.calls:>9,}  {p.share:6.1%}  {p.path}")
    if report.calls:
        w("")
        w(f"Calls by hour of day ({report.timezone})")
        top = max(report.hours) or 1
        for hour, n in enumerate(report.hours):
            bar = "#" * round(40 * n / top)
            w(f"  {hour:02d}  {n:>9,}  {bar}")
    return "\n".join(out) + "\n"


def _pct(n: int, total: int) -> str:
    return f"{n / total:6.1%}" if total else ""
