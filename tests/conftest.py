"""Session-wide settings of the test suite: the tiers, and the shared menu fixtures.

Every test gets its tier's marker here, from the top folder it lives in (`TIERS`), and
nowhere else: `python -m pytest -m core` runs the pure tests (no stack, no network, no
server started), `-m runtime` the ones with real rtc objects and no server, `-m e2e`
the ones over the real local stack, `-m image` the container image. A new top folder
must be given a tier here, or collection stops and says so.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from router.core.model import MenuFile
from router.core.navigator import CallCaps
from tests.menus import SMALL_YAML, Call, FakeLoader, render, sample_file

TESTS = Path(__file__).resolve().parent

# No timed assertions in tests: hypothesis' default 200 ms deadline per example failed
# property tests on a loaded machine (load 15 on 2 cores). Speed is measured in bench/.
settings.register_profile("router", deadline=None)
settings.load_profile("router")

TIERS: dict[str, str] = {
    # pure: the engine, the admin commands, the phone's parsers and dialog, the
    # deployment files, hostile input, the committed benchmark results
    "core": "core",
    "admin": "core",
    "sipphone": "core",
    "hardening": "core",
    "deploy": "core",
    "bench": "core",
    # real rtc objects, no server
    "runtime": "runtime",
    "trial": "runtime",
    "editor": "runtime",
    # the real local stack on loopback
    "e2e": "e2e",
    "stack": "e2e",
    "sipphone_flows": "e2e",  # the SIP phone against a loopback UAS, sipp and the stack
    # the container image
    "image": "image",
}
"""The tier of each top folder of tests/."""


def tier_of(path: Path) -> str:
    """The tier of the test file at `path`, from its top folder under tests/."""
    parts = path.resolve().relative_to(TESTS).parts
    tier = TIERS.get(parts[0]) if len(parts) > 1 else None
    if tier is None:
        raise pytest.UsageError(
            f"{path}: tests live in a top folder of tests/ with a tier; add "
            f"{parts[0]!r} to TIERS in tests/conftest.py"
        )
    return tier


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    tiers: dict[Path, pytest.MarkDecorator] = {}
    for item in items:
        path = Path(str(item.path))
        if path not in tiers:
            tiers[path] = getattr(pytest.mark, tier_of(path))
        item.add_marker(tiers[path])


# --- the shared menu fixtures (tests/menus.py) ------------------------------------------


@pytest.fixture
def menu_file() -> MenuFile:
    """The sample menu file built in code: every construct the navigator knows."""
    return sample_file()


@pytest.fixture
def make_call(menu_file: MenuFile) -> Callable[..., Call]:
    """`make_call(file=None, caps=None) -> Call` for the sample file or another one."""

    def make(file: MenuFile | None = None, caps: CallCaps | None = None) -> Call:
        return Call(file or menu_file, caps or CallCaps())

    return make


@pytest.fixture
def loader(menu_file: MenuFile, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLoader]:
    """Commands load the sample file, whatever path they are given (the paths are kept)."""
    fake = FakeLoader(menu_file)
    monkeypatch.setattr("router.admin.check.load_menu_file", fake.load_menu_file)
    monkeypatch.delenv("ROUTER_MENUS", raising=False)
    yield fake


@pytest.fixture
def menus_yaml(tmp_path: Path) -> Path:
    """A small real menu file, for the commands run with the real loader."""
    path = tmp_path / "menus.yaml"
    path.write_text(SMALL_YAML)
    return path


@pytest.fixture(name="render")
def render_fixture() -> Callable[..., list[str]]:
    """`render(effects, notes=False)`: effects as short strings (tests/menus.py)."""
    return render


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """End the test process at once when livekit rtc's native runtime was loaded in it.

    The rtc SDK disposes its Rust runtime from an `atexit` handler; a tokio worker still
    delivering an event at that moment can panic in an `extern "C"` callback, which aborts
    the process (exit 134, "panic in a function that cannot unwind") after every test
    has passed and been reported. The results are final here, so the exit status is
    pytest's own, and the native runtime is not torn down under the interpreter.
    """
    ffi = sys.modules.get("livekit.rtc._ffi_client")
    if ffi is None or getattr(ffi.FfiClient, "_instance", None) is None:
        return
    status = getattr(config, "_router_exitstatus", None)
    if status is None:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(status))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config._router_exitstatus = exitstatus  # type: ignore[attr-defined]
