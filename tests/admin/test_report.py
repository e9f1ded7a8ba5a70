"""`router report`: counts, consistency with the metrics, damaged lines, versions, bounds.

Calls are made by the real navigator with the real CallRecorder and Metrics
(`bench/callgen.py`), so the records are the router's own, not hand-written.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tracemalloc
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bench.callgen import CallGenerator, amplify
from router.admin.graph import Dialled, Graph, Hours, Matched, OnLimit, Pressed, build
from router.admin.report import NOT_RECORDED, PATH_TABLE, ReportBuilder, read_records, text
from router.admin.report import reading as reading_module
from router.admin.report.counting import _median, _Paths
from router.admin.report.picture import _starts, attributes
from router.cli import main
from router.core.loader import load_menu_file
from router.core.model import MenuFile
from router.runtime.metrics import Metrics
from router.runtime.outcomes import TransferOutcome

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def acme() -> MenuFile:
    return load_menu_file(ROOT / "menus.yaml").menu_file


def _write(path: Path, records: list[dict[str, Any]], extra: str = "") -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + extra, encoding="utf-8")
    return path


def _samples(metrics: Metrics, name: str) -> dict[tuple[str, ...], float]:
    """A counter's values by its labels' values (prometheus_client's own samples)."""
    found: dict[tuple[str, ...], float] = {}
    for family in metrics.registry.collect():
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sample.labels.values())] = sample.value
    return found


def test_counts_equal_the_metrics_for_the_same_calls(acme: MenuFile, tmp_path: Path) -> None:
    metrics = Metrics()
    records = list(CallGenerator(acme, metrics=metrics, seed=7).calls(1500))
    builder = ReportBuilder()
    read_records([str(_write(tmp_path / "calls.jsonl", records))], builder)
    report = builder.report()

    assert report.calls == 1500 and report.damaged == 0
    calls = _samples(metrics, "router_calls_total")
    assert {end: int(n) for (end,), n in calls.items()} == dict(report.ends)
    entries = _samples(metrics, "router_menu_entries_total")
    assert {m: int(n) for (m,), n in entries.items()} == {m.name: m.entries for m in report.menus}
    invalid = _samples(metrics, "router_invalid_keys_total")
    assert {m: int(n) for (m,), n in invalid.items()} == {
        m.name: m.invalid for m in report.menus if m.invalid
    }
    timeouts = _samples(metrics, "router_timeouts_total")
    assert {m: int(n) for (m,), n in timeouts.items()} == {
        m.name: m.no_input for m in report.menus if m.no_input
    }
    ended = _samples(metrics, "router_calls_ended_total")
    assert {k: int(n) for k, n in ended.items()} == {
        (m.name, end): n for m in report.menus for end, n in m.ended.items()
    }
    transfers = _samples(metrics, "router_transfers_total")
    assert {k: int(n) for k, n in transfers.items()} == {
        (d.name, *TransferOutcome(o).labels): n
        for d in report.destinations
        for o, n in d.outcomes.items()
    }
    assert _samples(metrics, "router_keys_total") == {(): float(report.keys)}
    # and the figures are not trivially empty
    assert report.ends["transferred"] > 500 and report.ends["caller_hangup"] > 50
    assert sum(len(d.sip_statuses) for d in report.destinations) > 3
    assert any(m.limits for m in report.menus)


def test_a_menu_shows_its_options_drop_off_and_hours(acme: MenuFile) -> None:
    builder = ReportBuilder(menu_file=acme)
    for record in CallGenerator(acme, seed=3).calls(400):
        builder.record(record)
    report = builder.report(top_paths=5)
    main_menu = report.menu("main")
    assert main_menu is not None and main_menu.in_file is True
    assert {o.key for o in main_menu.options} >= {"1", "2", "3"}
    assert sum(o.share for o in main_menu.options) == pytest.approx(1.0)
    assert main_menu.gave_up == sum(main_menu.ended.get(e, 0) for e in ("caller_hangup", "dropped"))
    assert main_menu.drop_off == pytest.approx(main_menu.gave_up / main_menu.calls)
    assert sum(report.hours) == report.calls == 400
    assert len(report.paths) == 5
    assert report.paths[0].calls >= report.paths[-1].calls
    sales = report.destination("sales")
    assert sales is not None and sales.median_to_transfer_s is not None
    assert report.versions[0].version == acme.version and report.menu_file == acme.version


def test_damaged_lines_are_counted_and_named(
    acme: MenuFile, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = list(CallGenerator(acme, seed=1).calls(3))
    bad = _write(
        tmp_path / "calls.jsonl",
        good,
        '{"call_id": "x", "end": "hangup"\n'
        "[1, 2]\n"
        '{"started_at": "yesterday", "end": "hangup"}\n'
        '{"started_at": "2026-11-24T10:00:00+00:00", "end": "transferred",'
        ' "transfers": [{"target": "tel:+1", "result": "maybe"}]}\n'
        "\n",
    )
    assert main(["report", str(bad)]) == 0
    out = capsys.readouterr().out
    assert "3 calls" in out and "4 damaged line(s)" in out
    assert f"{bad}:4: not JSON" in out
    assert f"{bad}:5: not a JSON object" in out
    assert f"{bad}:6: `started_at` is not an ISO time" in out
    assert f"{bad}:7: a transfer's `result` is 'maybe'" in out


def test_nothing_but_damage_is_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "calls.jsonl"
    path.write_bytes(b"\xff\xfe garbage\n")
    assert main(["report", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{path}:1" in err and "Traceback" not in err
    assert main(["report", str(tmp_path / "missing.jsonl")]) == 1
    assert "no such file" in capsys.readouterr().err


def test_versions_and_menus_that_no_longer_exist(
    acme: MenuFile, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = list(CallGenerator(acme, seed=2).calls(20))
    old = json.loads(json.dumps(new[:5]))
    for record in old:
        record["menu_version"] = "0123456789ab"
        record["started_at"] = "2026-10-01T12:00:00.000+00:00"
        record["menus"] = [{"menu": "legacy", "t": 1.0}]
        record["keys"] = [{"key": "5", "t": 2.0, "menu": "legacy"}]
        record["ended_in"] = "legacy"
    path = _write(tmp_path / "calls.jsonl", old + new)
    out_json = tmp_path / "r.json"
    assert (
        main(["report", str(path), "--menus", str(ROOT / "menus.yaml"), "-o", str(out_json)]) == 0
    )
    data = json.loads(out_json.read_text())
    assert [v["version"] for v in data["versions"]] == ["0123456789ab", acme.version]
    assert data["menu_file"] == acme.version
    legacy = next(m for m in data["menus"] if m["name"] == "legacy")
    assert legacy["in_file"] is False
    assert legacy["options"] == [{"key": "5", "count": 5, "share": 1.0}]
    assert main(["report", str(path), "--menus", str(ROOT / "menus.yaml")]) == 0
    out = capsys.readouterr().out
    assert "Menu legacy  [not in the --menus file" in out
    assert "Menus no longer in the --menus file (keys taken there are counted above): legacy" in out


def test_since_and_until(
    acme: MenuFile, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    records = list(CallGenerator(acme, seed=4, days=3).calls(300))
    path = _write(tmp_path / "calls.jsonl", records)
    since, until = "2026-11-25T00:00:00+00:00", "2026-11-26T00:00-05:00"
    assert main(["report", str(path), "--since", since, "--until", until, "-o", "r.json"]) == 0
    data = json.loads((tmp_path / "r.json").read_text())
    inside = [r for r in records if since <= r["started_at"] < "2026-11-26T05:00:00"]
    assert data["calls"] == len(inside) and data["outside"] == 300 - len(inside)
    with pytest.raises(SystemExit):
        main(["report", str(path), "--since", "2026-11-25T00:00"])
    assert "has no time zone" in capsys.readouterr().err


def test_records_older_than_the_structured_fields(acme: MenuFile) -> None:
    """Before `kind`, `destination`, `invalid_in` and `ended_in`: read from what they had."""
    builder = ReportBuilder()
    builder.record(
        {
            "started_at": "2026-11-24T15:00:00.000+00:00",
            "menu_version": "old",
            "menus": [{"menu": "main", "t": 0.5}],
            "keys": [{"key": "1", "t": 2.0, "menu": "main"}],
            "invalid": 2,
            "timeouts": 1,
            "transfers": [
                {
                    "target": "tel:+15105550101",
                    "t": 2.0,
                    "result": "failed",
                    "sip_status": 486,
                    "detail": "busy 486: Busy Here",
                },
                {"target": "tel:+15105550101", "t": 9.0, "result": "failed", "sip_status": 480},
            ],
            "end": "caller_hangup",
        }
    )
    report = builder.report()
    dest = report.destination("tel:+*******0101")
    assert dest is not None and dict(dest.outcomes) == {"busy": 1, "no_answer": 1}
    assert dest.median_to_transfer_s == 5.5
    main_menu = report.menu("main")
    assert main_menu is not None and main_menu.ended == {"caller_hangup": 1}
    unknown = report.menu(NOT_RECORDED)
    assert unknown is not None and (unknown.invalid, unknown.no_input) == (2, 1)


def test_the_path_table_is_bounded() -> None:
    paths = _Paths(size=10)
    for i in range(100):
        paths.add("common")
        paths.add(f"rare {i}")
    assert len(paths.counts) <= 10 and not paths.exact
    assert paths.counts.most_common(1)[0][0] == "common"
    assert PATH_TABLE >= 1000


def test_median() -> None:
    assert _median(Counter({1.0: 1})) == 1.0
    assert _median(Counter({1.0: 1, 3.0: 1})) == 2.0
    assert _median(Counter({1.0: 2, 5.0: 1})) == 1.0
    assert _median(Counter()) is None


def test_memory_stays_flat_as_the_input_grows(acme: MenuFile, tmp_path: Path) -> None:
    """Ten times the records, about the same peak: nothing is kept per record."""
    real = list(CallGenerator(acme, seed=5).calls(300))

    def peak(n: int) -> int:
        path = tmp_path / f"{n}.jsonl"
        path.write_text("".join(line + "\n" for line in amplify(real, n)), encoding="utf-8")
        tracemalloc.start()
        builder = ReportBuilder()
        read_records([str(path)], builder)
        builder.report()
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert builder.calls == n
        return top

    small, large = peak(400), peak(4_000)
    assert large < small * 1.5 + 200_000, (small, large)


def test_the_picture_and_the_page(acme: MenuFile, tmp_path: Path) -> None:
    pytest.importorskip("router.admin.report.picture")
    import shutil

    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    path = _write(tmp_path / "calls.jsonl", list(CallGenerator(acme, seed=6).calls(200)))
    svg, page = tmp_path / "r.svg", tmp_path / "r.html"
    menus = str(ROOT / "menus.yaml")
    assert main(["report", str(path), "--menus", menus, "-o", str(svg)]) == 0
    assert main(["report", str(path), "--menus", menus, "-o", str(page)]) == 0
    picture = svg.read_text()
    assert "<svg" in picture and "gave up" in picture and "transfers," in picture
    html = page.read_text()
    assert "<svg" in html and "<table>" in html
    for outside in ("<script", "<link", "src=", "@import", "url("):
        assert outside not in html
    assert main(["report", str(path), "-o", str(tmp_path / "x.svg")]) == 2


def _count(attrs: str) -> int:
    """The calls an annotated edge shows: its label's last line (`label="1\\n13"`)."""
    return int(attrs.split('label="', 1)[1].split('"', 1)[0].rsplit("\\n", 1)[1].replace(",", ""))


def test_the_picture_counts_each_edge_by_its_cause_whatever_its_words(
    acme: MenuFile, tmp_path: Path
) -> None:
    path = _write(tmp_path / "calls.jsonl", list(CallGenerator(acme, seed=6).calls(300)))
    builder = ReportBuilder()
    read_records([str(path)], builder)
    report = builder.report()
    graph = build(acme, failures=False, lines=True)
    # the same graph, every edge's words changed: a limit's edge says nothing of limits
    reworded = Graph(graph.nodes, [replace(e, label=f"way {i}") for i, e in enumerate(graph.edges)])
    drawn = attributes(reworded, report)
    counts = {i: _count(drawn[f"e{i}"]) for i in range(len(graph.edges)) if f"e{i}" in drawn}
    assert counts == {
        int(e[1:]): _count(a) for e, a in attributes(graph, report).items() if e[0] == "e"
    }
    on_limit = sum(n for i, n in counts.items() if isinstance(graph.edges[i].cause, OnLimit))
    reached = sum(
        m.limits.get("invalid", 0) + m.limits.get("no_input", 0)
        for m in report.menus
        if m.name in acme.menus
    )
    assert on_limit == reached > 0  # each menu's limits on its own limit edges, once
    assert sum(n for i, n in counts.items() if isinstance(graph.edges[i].cause, Pressed)) > 0
    # a caller rule's hours carry no count: the records count calls by number dialled
    _starts(reworded, report, acme, drawn)
    hours = {i: e.cause.of for i, e in enumerate(graph.edges) if isinstance(e.cause, Hours)}
    assert {type(whose) for whose in hours.values()} == {Dialled, Matched}
    assert {i for i in hours if f"e{i}" in drawn} == {
        i for i, whose in hours.items() if isinstance(whose, Dialled)
    }


def test_the_command_starts_without_livekit() -> None:
    code = (
        "import sys, router.admin.report, router.admin.report.picture;"
        "bad = [m for m in ('livekit', 'aiohttp') if m in sys.modules];"
        "print(*bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_progress_on_stderr_for_long_runs(
    acme: MenuFile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = list(CallGenerator(acme, seed=8).calls(50))
    path = tmp_path / "calls.jsonl"
    path.write_text("".join(line + "\n" for line in amplify(real, 20_000)), encoding="utf-8")
    monkeypatch.setattr(reading_module, "PROGRESS_AFTER_S", 0.0)
    monkeypatch.setattr(reading_module, "PROGRESS_EVERY_S", 0.0)
    err = io.StringIO()
    read_records([str(path)], ReportBuilder(), progress=err)
    lines = err.getvalue().splitlines()
    assert lines and lines[0].startswith("router report: 8,192 lines read, ")
    assert f"of {path}" in lines[-1]


def test_calls_are_counted_by_the_caller_s_language() -> None:
    builder = ReportBuilder()
    base = {"started_at": "2026-11-24T15:00:00.000+00:00", "end": "hangup", "menus": []}
    for language in ("es", "en", "es", None):
        builder.record({**base, **({"language": language} if language else {})})
    report = builder.report()
    assert report.languages == {"es": 2, "en": 1}
    assert report.as_json()["languages"] == {"es": 2, "en": 1}
    assert "Calls by the caller's language" in text(report)
    plain = ReportBuilder()
    plain.record(base)
    assert "languages" not in plain.report().as_json()  # records without: JSON as before


def test_an_end_and_a_limit_of_a_newer_router_are_counted_by_their_names() -> None:
    # read as written (`CallRecord.from_json`), not skipped as damaged
    builder = ReportBuilder()
    builder.record(
        {
            "started_at": "2026-11-24T15:00:00.000+00:00",
            "menus": [{"menu": "main", "t": 0.5}],
            "limits": [{"limit": "minutes_on_hold", "t": 1.0, "menu": "main"}],
            "end": "sent_to_voicemail",
        }
    )
    report = builder.report()
    assert (report.damaged, report.ends) == (0, {"sent_to_voicemail": 1})
    main_menu = report.menu("main")
    assert main_menu is not None and main_menu.limits == {"minutes_on_hold": 1}
    assert main_menu.ended == {"sent_to_voicemail": 1} and main_menu.gave_up == 0
    assert json.loads(json.dumps(report.as_json()))["ends"] == {"sent_to_voicemail": 1}
