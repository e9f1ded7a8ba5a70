"""Install the local LiveKit stack: livekit-server and the SIP stand-in, built from source.

Run ``python -m router.stack.install``. It is idempotent: what is already built is
reused. Binaries go to a cache folder keyed by version (``~/.cache/livekit-menu-router``,
or ``$ROUTER_STACK_CACHE``):

- ``livekit-server-v1.13.5/livekit-server``: ``go install
  github.com/livekit/livekit-server/cmd/server@v1.13.5`` (about 6 minutes cold on 2 cores);
- ``sipstandin-<hash>/sipstandin``: ``go build`` of ``router/stack/sipstandin``, keyed by a
  hash of its sources so that any change rebuilds it (cgo with libopus).

- ``web-<hash>/node_modules``: ``npm ci`` of the trial page's lock file
  (``router/trial/web/package-lock.json``: livekit-client), keyed by a hash of the lock file.

It also checks for Go and the Debian packages the stack needs (``redis-server``,
``pkg-config``, ``libopus-dev``, ``libopusfile-dev``, ``libsoxr-dev``) and installs the
packages with apt-get when running as root. Any failure is one sentence on stderr and
exit status 1.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from router.core.errors import StackError
from router.settings import value

SERVER_VERSION = "v1.13.5"
SERVER_PACKAGE = "github.com/livekit/livekit-server/cmd/server"
MIN_GO = (1, 26)
DEBIAN_PACKAGES = (
    "redis-server",
    "pkg-config",
    "libopus-dev",
    "libopusfile-dev",
    "libsoxr-dev",
    "graphviz",  # `router graph --format svg`
    "sip-tester",  # sipp, an independent SIP peer for the caller's tests
    "chromium",  # the trial page's end-to-end test drives it headless (Playwright)
)
STANDIN_DIR = Path(__file__).resolve().parent / "sipstandin"
WEB_DIR = Path(__file__).resolve().parent.parent / "trial" / "web"
"""The trial page: its package.json and package-lock.json (npm, no bundler)."""
STANDIN_KEEP = 3  # stand-in builds kept in the cache
GO_FALLBACKS = ("/usr/local/go/bin/go",)


class InstallError(StackError):
    """Something the stack needs is missing; the message is one sentence for a person."""


@dataclass(frozen=True)
class StackBinaries:
    """Paths of everything `LocalStack` runs."""

    livekit_server: Path
    sip_standin: Path
    redis_server: Path


def cache_dir() -> Path:
    """The cache folder: ``$ROUTER_STACK_CACHE`` or ``~/.cache/livekit-menu-router``
    (router/settings.py)."""
    folder: Path = value("stack_cache")
    return folder


def standin_sources(src: Path = STANDIN_DIR) -> list[Path]:
    """The files whose content keys a Go program's build (the stand-in's by default)."""
    files = sorted(
        p
        for p in src.iterdir()
        if p.is_file()
        and (
            (p.suffix == ".go" and not p.name.endswith("_test.go"))
            or p.name in ("go.mod", "go.sum")
        )
    )
    if not any(p.name == "go.mod" for p in files):
        raise InstallError(f"The Go sources are missing: no go.mod in {src}.")
    return files


def standin_hash(src: Path = STANDIN_DIR) -> str:
    """A short hash of the stand-in's sources (names and contents)."""
    h = hashlib.sha256()
    for p in standin_sources(src):
        h.update(p.name.encode())
        h.update(b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:16]


def server_binary_path(cache: Path | None = None) -> Path:
    return (cache or cache_dir()) / f"livekit-server-{SERVER_VERSION}" / "livekit-server"


def standin_binary_path(cache: Path | None = None, src: Path = STANDIN_DIR) -> Path:
    return go_program_path(src, "sipstandin", cache)


def go_program_path(src: Path, name: str, cache: Path | None = None) -> Path:
    """Where the build of the Go program in `src` goes: keyed by its sources' hash."""
    return (cache or cache_dir()) / f"{name}-{standin_hash(src)}" / name


def _say(msg: str, quiet: bool) -> None:
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


# ---- prerequisites ----


def find_go() -> Path:
    """The go command (PATH, then /usr/local/go/bin/go), checked to be new enough."""
    found = shutil.which("go") or next((c for c in GO_FALLBACKS if Path(c).is_file()), None)
    if not found:
        raise InstallError(
            f"Go {MIN_GO[0]}.{MIN_GO[1]} or newer is required to build the stack: install it "
            "from https://go.dev/dl/ and put `go` on PATH."
        )
    try:
        out = subprocess.run(
            [found, "env", "GOVERSION"], capture_output=True, text=True, timeout=60, env=_go_env()
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as e:
        raise InstallError(f"Cannot run {found}: {e}.") from e
    m = re.match(r"go(\d+)\.(\d+)", out)
    if not m or (int(m.group(1)), int(m.group(2))) < MIN_GO:
        raise InstallError(
            f"Go {MIN_GO[0]}.{MIN_GO[1]} or newer is required to build the stack, "
            f"but {found} is {out or 'unknown'}."
        )
    return Path(found)


def missing_debian_packages(packages: Sequence[str] = DEBIAN_PACKAGES) -> list[str]:
    if not shutil.which("dpkg-query"):
        return []  # not Debian: rely on the checks of the binaries themselves
    missing = []
    for pkg in packages:
        r = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True, check=False
        )
        if r.returncode != 0 or "install ok installed" not in r.stdout:
            missing.append(pkg)
    return missing


def ensure_debian_packages(*, install: bool = True, quiet: bool = False) -> None:
    """Install the missing Debian packages with apt-get when root, else explain."""
    missing = missing_debian_packages()
    if not missing:
        return
    names = " ".join(missing)
    if not install or os.geteuid() != 0 or not shutil.which("apt-get"):
        raise InstallError(
            f"Missing Debian packages; install them with: sudo apt-get install -y {names}"
        )
    _say(f"installing Debian packages: {names}", quiet)
    _apt_install(missing, quiet)
    still = missing_debian_packages(missing)
    if still:
        raise InstallError(f"apt-get did not install: {' '.join(still)}.")


def _apt_install(packages: Sequence[str], quiet: bool) -> None:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages],
    ):
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if r.returncode != 0:
            last = _last_line(r.stderr or r.stdout)
            raise InstallError(
                f"`{' '.join(cmd)}` failed (are Debian's package servers reachable?): {last}"
            )


def find_redis() -> Path:
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if not found:
        raise InstallError(
            "redis-server is required: install it with: sudo apt-get install -y redis-server"
        )
    return Path(found)


# ---- npm packages (the trial page; the editor check of the schema) ----


def npm_packages_dir(src: Path, name: str, cache: Path | None = None) -> Path:
    """The folder holding the node_modules/ of `src`'s lock file, keyed by that lock file."""
    lock = (src / "package-lock.json").read_bytes()
    return (cache or cache_dir()) / f"{name}-{hashlib.sha256(lock).hexdigest()[:16]}"


def web_packages_dir(cache: Path | None = None, src: Path = WEB_DIR) -> Path:
    """The folder holding the trial page's node_modules/, keyed by its lock file."""
    return npm_packages_dir(src, "web", cache)


def ensure_web_packages(
    cache: Path | None = None, *, src: Path = WEB_DIR, install: bool = True, quiet: bool = False
) -> Path:
    """`npm ci` the trial page's packages (livekit-client) from the committed lock file."""
    return ensure_npm_packages(
        src, "web", "livekit-client", "the trial page", cache=cache, install=install, quiet=quiet
    )


def ensure_npm_packages(
    src: Path,
    name: str,
    marker: str,
    what: str,
    *,
    cache: Path | None = None,
    install: bool = True,
    quiet: bool = False,
) -> Path:
    """`npm ci` the packages of `src`'s committed lock file, once per version of it (the
    `marker` package shows an install is whole); installs Debian's npm when no npm is on
    PATH (as root). Returns the folder holding node_modules/. Raises InstallError."""
    cache = cache or cache_dir()
    target = npm_packages_dir(src, name, cache)
    if (target / "node_modules" / marker / "package.json").is_file():
        return target
    npm = shutil.which("npm")
    if npm is None:
        if not install or os.geteuid() != 0 or not shutil.which("apt-get"):
            raise InstallError(
                f"npm is required for {what}'s packages; install it with: "
                "sudo apt-get install -y npm"
            )
        _apt_install(["npm"], quiet)
        npm = shutil.which("npm")
        if npm is None:
            raise InstallError("apt-get installed npm, but there is no npm command on PATH.")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=f".{name}-") as tmp:
        for file in ("package.json", "package-lock.json"):
            shutil.copy(src / file, Path(tmp) / file)
        _say(f"installing {what}'s npm packages (npm ci) ...", quiet)
        r = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
            cwd=tmp,
            capture_output=True,
            text=True,
            check=False,
        )
        if r.returncode != 0:
            raise InstallError(
                f"`npm ci` of {what}'s packages failed "
                f"(is the npm registry reachable?): {_last_line(r.stderr or r.stdout)}"
            )
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
        Path(tmp).mkdir()  # for TemporaryDirectory's cleanup
    _prune_builds(cache, name, keep=target)
    return target


# ---- building ----


def _go_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("GOTOOLCHAIN", "local")  # never try to download another toolchain
    env.setdefault("GOFLAGS", "-mod=readonly")
    if extra:
        env.update(extra)
    return env


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "(no output)"


_NETWORK_HINTS = (
    "GOPROXY=off",
    "module lookup disabled",
    "unrecognized import path",
    "reading https://",
    "proxy.golang.org",
    "dial tcp",
    "no such host",
    "i/o timeout",
    "403 Forbidden",
    "connection refused",
    "TLS handshake timeout",
    "lookup ",
)


def _run_go(
    cmd: list[str], *, cwd: Path | None, env: dict[str, str], what: str, quiet: bool, expect: str
) -> None:
    """Run a long go command, printing a heartbeat, and turn failures into InstallError."""
    _say(f"{what} (expect {expect}) ...", quiet)
    start = time.monotonic()
    with tempfile.TemporaryFile(mode="w+") as log:
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, text=True
        )
        stop = threading.Event()

        def heartbeat() -> None:
            while not stop.wait(30):
                _say(f"  ... still running, {int(time.monotonic() - start)} s", quiet)

        t = threading.Thread(target=heartbeat, daemon=True)
        t.start()
        try:
            rc = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            stop.set()
        log.seek(0)
        output = log.read()
    if rc != 0:
        last = _last_line(output)
        if any(h in output for h in _NETWORK_HINTS):
            raise InstallError(
                f"{what} failed: cannot download Go modules "
                f"(is the Go module proxy reachable?): {last}"
            )
        raise InstallError(f"{what} failed: {last}")
    _say(f"  done in {int(time.monotonic() - start)} s", quiet)


@contextlib.contextmanager
def _cache_lock(cache: Path) -> Iterator[None]:
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".install.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def build_server(go: Path, cache: Path, *, quiet: bool = False) -> Path:
    target = server_binary_path(cache)
    if target.is_file() and os.access(target, os.X_OK):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as tmp:
        _run_go(
            [str(go), "install", "-trimpath", f"{SERVER_PACKAGE}@{SERVER_VERSION}"],
            cwd=Path(tmp),
            env=_go_env({"GOBIN": tmp, "GOFLAGS": ""}),
            what=f"building livekit-server {SERVER_VERSION} with go install",
            quiet=quiet,
            expect="about 6 minutes the first time",
        )
        built = Path(tmp) / "server"
        if not built.is_file():
            raise InstallError(f"go install finished but produced no binary in {tmp}.")
        os.replace(built, target)
    return target


def build_standin(go: Path, cache: Path, *, src: Path = STANDIN_DIR, quiet: bool = False) -> Path:
    return build_go_program(
        go, cache, src, "sipstandin", what="the SIP stand-in", cgo=True, quiet=quiet
    )


def build_go_program(
    go: Path,
    cache: Path,
    src: Path,
    name: str,
    *,
    what: str,
    cgo: bool = False,
    quiet: bool = False,
) -> Path:
    """`go build` the program in `src` once per version of its sources (the stand-in,
    test tools); older builds of the same name are pruned. Raises InstallError."""
    target = go_program_path(src, name, cache)
    if target.is_file() and os.access(target, os.X_OK):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp_bin = target.parent / f".{name}.{os.getpid()}"
    _run_go(
        [str(go), "build", "-trimpath", "-buildvcs=false", "-o", str(tmp_bin), "."],
        cwd=src,
        env=_go_env({"CGO_ENABLED": "1" if cgo else "0"}),
        what=f"building {what} with go build",
        quiet=quiet,
        expect="about 2 minutes the first time",
    )
    os.replace(tmp_bin, target)
    _prune_builds(cache, name, keep=target.parent)
    return target


def _prune_builds(cache: Path, name: str, keep: Path) -> None:
    builds = sorted(
        (p for p in cache.glob(f"{name}-*") if p.is_dir() and p != keep),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in builds[STANDIN_KEEP - 1 :]:
        shutil.rmtree(old, ignore_errors=True)


def ensure_stack(*, quiet: bool = False, install_packages: bool = True) -> StackBinaries:
    """Check the prerequisites and build what is missing; return the binaries' paths.

    Raises InstallError (one sentence) when something cannot be had.
    """
    cache = cache_dir()
    server = server_binary_path(cache)
    standin = standin_binary_path(cache)
    if (
        server.is_file()
        and standin.is_file()
        and (web_packages_dir(cache) / "node_modules" / "livekit-client" / "package.json").is_file()
        and not missing_debian_packages()
    ):
        return StackBinaries(server, standin, find_redis())
    ensure_debian_packages(install=install_packages, quiet=quiet)
    redis = find_redis()
    go = find_go()
    with _cache_lock(cache):
        server = build_server(go, cache, quiet=quiet)
        standin = build_standin(go, cache, quiet=quiet)
        ensure_web_packages(cache, install=install_packages, quiet=quiet)
    return StackBinaries(server, standin, redis)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m router.stack.install",
        description="Build livekit-server and the SIP stand-in into the stack cache (idempotent).",
    )
    parser.add_argument("--quiet", action="store_true", help="print only the result")
    parser.add_argument(
        "--no-apt", action="store_true", help="never run apt-get; just say what is missing"
    )
    args = parser.parse_args(argv)
    try:
        b = ensure_stack(quiet=args.quiet, install_packages=not args.no_apt)
    except InstallError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted.", file=sys.stderr)
        return 130
    print(f"livekit-server: {b.livekit_server}")
    print(f"sip stand-in:   {b.sip_standin}")
    print(f"redis-server:   {b.redis_server}")
    print(f"trial page:     {web_packages_dir()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
