"""`router check` and `router schema`: exit codes, output, and the schema kept in step."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from router.cli import main
from router.core import format as fmt

ROOT = Path(__file__).resolve().parents[2]
BROKEN = Path(__file__).resolve().parents[1] / "core" / "broken"

GOOD = """\
version: 1
destinations:
  operator: "tel:+15105550100"
menus:
  main:
    greeting: "Hello. Press 0 for the operator."
    options:
      "0": {transfer: operator}
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_valid_file_exits_0(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "menus.yaml"
    path.write_text(GOOD)
    code, out, err = run(capsys, "check", str(path))
    assert code == 0
    assert re.fullmatch(
        rf"{re.escape(str(path))}: OK, 1 menu, 1 number, 1 destination, 0 warnings "
        r"\(version [0-9a-f]{12}\)\n",
        out,
    )
    assert err == ""


def test_quiet(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "menus.yaml"
    path.write_text(GOOD)
    assert run(capsys, "check", "-q", str(path)) == (0, "", "")


def test_warnings_go_to_stderr_and_still_exit_0(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "menus.yaml"
    path.write_text(
        GOOD + '  orphan:\n    greeting: "x"\n    options: {"0": {transfer: operator}}\n'
    )
    code, out, err = run(capsys, "check", str(path))
    assert code == 0 and "1 warning" in out
    assert err == (
        f"{path}:9:3: warning: menu 'orphan' is never reached: no number, option or limit "
        "leads to it (add an option {menu: orphan} somewhere, or remove it)\n"
    )


def test_errors_exit_1_with_every_error_and_a_summary(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(BROKEN)
    code, out, err = run(capsys, "check", "29-zero-duration.yaml")
    assert code == 1 and out == ""
    assert err.splitlines() == [
        "29-zero-duration.yaml:6:18: error: defaults: timeouts: first_digit must be more than 0",
        "29-zero-duration.yaml:7:18: error: defaults: timeouts: inter_digit must be more than 0, "
        "not -2",
        "29-zero-duration.yaml: 2 errors, 0 warnings; the file cannot be used",
    ]


@pytest.mark.parametrize("path", sorted(BROKEN.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_broken_file_prints_file_line_column(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, path: Path
) -> None:
    monkeypatch.chdir(BROKEN)
    code, _, err = run(capsys, "check", path.name)
    lines = err.splitlines()
    for line in lines[:-1]:
        assert re.match(rf"{re.escape(path.name)}:\d+:\d+: (error|warning): ", line), line
    if code == 1:
        assert re.fullmatch(
            rf"{re.escape(path.name)}: \d+ errors?, \d+ warnings?; the file cannot be used",
            lines[-1],
        )
    else:
        assert code == 0 and all(": warning: " in line for line in lines)


def test_default_path_is_menus_yaml_in_the_current_folder(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ROUTER_MENUS", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "menus.yaml").write_text(GOOD)
    code, out, _ = run(capsys, "check")
    assert code == 0 and out.startswith("menus.yaml: OK")


def test_default_path_from_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "elsewhere.yaml").write_text(GOOD)
    monkeypatch.setenv("ROUTER_MENUS", str(tmp_path / "elsewhere.yaml"))
    code, out, _ = run(capsys, "check")
    assert code == 0 and out.startswith(str(tmp_path / "elsewhere.yaml"))


def test_missing_file_exits_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ROUTER_MENUS", raising=False)
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "check")
    assert code == 1 and out == ""
    assert err.splitlines()[0] == (
        "menus.yaml:1:1: error: cannot read the file: No such file or directory"
    )


def test_hostile_file_exits_1_with_one_message(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "junk.yaml"
    path.write_bytes(bytes(range(256)))
    code, _, err = run(capsys, "check", str(path))
    assert code == 1
    assert err.splitlines() == [
        f"{path}:1:1: error: this is not a text file (it contains binary data) "
        "(a menu file is YAML text, usually menus.yaml)",
        f"{path}: 1 error, 0 warnings; the file cannot be used",
    ]


def test_max_bytes_option(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "menus.yaml"
    path.write_text(GOOD)
    code, _, err = run(capsys, "check", "--max-bytes", "100", str(path))
    assert code == 1 and "menu files are limited to 100 bytes" in err


def test_the_shipped_menus_yaml_passes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ROUTER_MENUS", raising=False)
    monkeypatch.chdir(ROOT)
    code, out, err = run(capsys, "check")
    assert (code, err) == (0, "")
    assert "0 warnings" in out


# --- the schema ---------------------------------------------------------------------------


def test_schema_command_prints_the_committed_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "schema")
    assert code == 0
    assert out == (ROOT / "menus.schema.json").read_text(encoding="utf-8"), (
        "menus.schema.json is stale: run `router schema -o menus.schema.json`"
    )


def test_schema_to_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_path = tmp_path / "s.json"
    assert run(capsys, "schema", "-o", str(out_path)) == (0, "", "")
    schema = json.loads(out_path.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["version", "menus"]


def _walk(spec: fmt.Spec, seen: set[int]) -> list[fmt.Obj]:
    """Every `Obj` reachable from a spec (the mappings with fixed keys)."""
    if id(spec) in seen:
        return []
    seen.add(id(spec))
    found: list[fmt.Obj] = []
    if isinstance(spec, fmt.Obj):
        found.append(spec)
        for f in spec.fields:
            found += _walk(f.spec, seen)
    elif isinstance(spec, fmt.MapOf):
        found += _walk(spec.value, seen)
    elif isinstance(spec, fmt.ListOf):
        found += _walk(spec.item, seen)
    elif isinstance(spec, fmt.OneOf):
        for option in spec.options:
            found += _walk(option, seen)
    elif isinstance(spec, fmt.Ref):
        found += _walk(fmt.DEFS[spec.name], seen)
    return found


def test_schema_documents_every_key() -> None:
    """Every key of the format has a description in the schema (editors show it on hover)."""
    objs = _walk(fmt.FILE, set())
    assert len(objs) > 15
    undocumented = [f.name for obj in objs for f in obj.fields if not (f.doc or f.spec.doc)]
    assert undocumented == []
    text = (ROOT / "menus.schema.json").read_text()
    for obj in objs:
        for f in obj.fields:
            assert f'"{f.name}"' in text


def test_loader_and_schema_share_patterns() -> None:
    """The patterns the loader matches with are the ones the schema publishes."""
    schema = fmt.json_schema()
    menus = schema["properties"]["menus"]
    assert menus["propertyNames"]["pattern"] == fmt.NAME_PATTERN
    options = menus["additionalProperties"]["properties"]["options"]
    assert options["propertyNames"]["pattern"] == fmt.KEY_PATTERN
    numbers = schema["properties"]["numbers"]
    assert numbers["propertyNames"]["pattern"] == fmt.NUMBER_PATTERN
    assert numbers["required"] == ["default"]


def test_the_example_is_valid_for_the_schema_too() -> None:
    jsonschema: Any = pytest.importorskip("jsonschema")
    import yaml  # type: ignore[import-untyped]

    schema = json.loads((ROOT / "menus.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)

    def plain(value: Any) -> Any:
        """YAML 1.1 as editors see it: dates stay text, keys are strings."""
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        if hasattr(value, "isoformat"):
            return value.isoformat()
        return value

    data = plain(yaml.safe_load((ROOT / "menus.yaml").read_text()))
    jsonschema.Draft202012Validator(schema).validate(data)
    bad = dict(data, menus={"main": {"greting": "x"}})
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(bad))


def test_a_file_that_cannot_be_written_is_one_sentence(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "missing" / "schema.json"
    code, out, err = run(capsys, "schema", "--output", str(target))
    assert code == 1 and out == ""
    assert err == f"router schema: No such file or directory: {target}\n"


ADMIN_COMMANDS = [
    ["check", "menus.yaml"],
    ["schema"],
    ["graph", "menus.yaml", "--format", "mermaid"],
    ["simulate", "menus.yaml", "--at", "2026-12-01T10:00-05:00", "--keys", "1"],
    ["test", "-q", "menus.test.yaml"],
]


def _imported_by(args: list[str]) -> set[str]:
    """The modules a fresh interpreter holds after `router ARGS` (run as `main(ARGS)`, which
    must return 0); printed one a line, so the probe itself imports nothing."""
    import subprocess
    import sys

    script = (
        "import sys, contextlib, io\n"
        "from router.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = main({args!r})\n"
        "print(code, *sorted(sys.modules), sep='\\n')\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=root, timeout=60
    )
    assert done.returncode == 0, done.stderr
    code, *modules = done.stdout.splitlines()
    assert code == "0", done.stderr
    return set(modules)


@pytest.mark.parametrize("args", ADMIN_COMMANDS)
def test_admin_commands_do_not_import_livekit(args: list[str]) -> None:
    """The CLI imports only the chosen command: livekit and aiohttp cost 0.7 s at start."""
    heavy = {m for m in _imported_by(args) if m.split(".")[0] in ("livekit", "aiohttp")}
    assert heavy == set()


def test_check_imports_only_what_it_uses() -> None:
    """`router check` reads and checks a file: no call is simulated, nothing is drawn,
    no JSON written, so the navigator, its events, the simulator, the other commands,
    the runtime and the modules only they need are never imported (each costs start-up
    time an admin waits for: docs/benchmarks.md §7)."""
    unused = {
        "router.core.events",
        "router.core.navigator",
        "router.core.simulation",
        "router.admin.simulate",
        "router.admin.menutest",
        "router.admin.graph",
        "router.admin.report",
        "router.runtime",
        "router.trial",
        "router.stack",
        "subprocess",
        "json",
    }
    assert _imported_by(["check", "menus.yaml"]) & unused == set()


def test_drawing_as_text_starts_no_program() -> None:
    """`router graph` imports `subprocess` only to run Graphviz for a picture."""
    modules = _imported_by(["graph", "menus.yaml", "--format", "mermaid"])
    assert "subprocess" not in modules
    assert "router.core.navigator" not in modules
