"""The installer: cache keys, and one clear sentence (exit 1) when something is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from router.stack import install

ROOT = Path(__file__).resolve().parents[2]


def test_cache_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ROUTER_STACK_CACHE", str(tmp_path / "c"))
    assert install.cache_dir() == tmp_path / "c"
    assert (
        install.server_binary_path() == tmp_path / "c" / "livekit-server-v1.13.5" / "livekit-server"
    )
    monkeypatch.delenv("ROUTER_STACK_CACHE")
    assert install.cache_dir() == Path.home() / ".cache" / "livekit-menu-router"


def test_standin_build_is_keyed_by_its_sources(tmp_path: Path) -> None:
    src = tmp_path / "sipstandin"
    shutil.copytree(install.STANDIN_DIR, src)
    h0 = install.standin_hash(src)
    assert h0 == install.standin_hash(install.STANDIN_DIR)
    (src / "README.md").write_text("docs do not count\n")
    (src / "extra_test.go").write_text("package main\n")
    assert install.standin_hash(src) == h0
    with open(src / "main.go", "a") as f:
        f.write("\n// changed\n")
    h1 = install.standin_hash(src)
    assert h1 != h0
    assert install.standin_binary_path(tmp_path, src).parent.name == f"sipstandin-{h1}"


def test_missing_go_is_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(install.shutil, "which", lambda name: None)
    monkeypatch.setattr(install, "GO_FALLBACKS", ())
    with pytest.raises(install.InstallError, match=r"^Go 1\.26 or newer is required"):
        install.find_go()


def test_unreachable_registry_fails_with_exit_1(tmp_path: Path) -> None:
    """No module cache and no proxy: exit 1 and one line naming the module proxy."""
    env = dict(
        os.environ,
        ROUTER_STACK_CACHE=str(tmp_path / "cache"),
        GOMODCACHE=str(tmp_path / "modcache"),
        GOPROXY="off",
        GOFLAGS="-modcacherw",
    )
    r = subprocess.run(
        [sys.executable, "-m", "router.stack.install", "--no-apt"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 1, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("error: building livekit-server v1.13.5 with go install failed")
    assert "module proxy" in last
    assert "Traceback" not in r.stderr
    # modules the go command fetched into the private cache are read-only by default
    subprocess.run(["chmod", "-R", "u+w", str(tmp_path)], check=False)


def test_missing_packages_without_root_say_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(install, "missing_debian_packages", lambda *a: ["libopus-dev", "sip-x"])
    monkeypatch.setattr(install.os, "geteuid", lambda: 1000)
    with pytest.raises(install.InstallError) as ei:
        install.ensure_debian_packages()
    assert str(ei.value) == (
        "Missing Debian packages; install them with: sudo apt-get install -y libopus-dev sip-x"
    )
