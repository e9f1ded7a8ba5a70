"""Build and try the router's container image without a Docker engine: buildah, chroot.

    python -m router.stack.image                 # base (once) + image, then `router check` in it
    python -m router.stack.image --rebuild-base  # debootstrap the stand-in base again
    python -m router.stack.image run -- router test /etc/router/menus.test.yaml

Why this exists: the repository's `Dockerfile` is written for `docker build` with
`python:3.11-slim`, but this machine (and CI) has no Docker engine and no registry to
pull that image from. So:

1. a **stand-in base image** is made from Debian packages: `debootstrap bookworm` with
   Python 3.11 (`python3`, `python3-venv`) and what `python:3.11-slim` also carries
   (`ca-certificates`, `tzdata`, `netbase`), committed with `buildah from scratch` /
   `buildah add` / `buildah commit` as `localhost/router-base:bookworm`. It is built
   once and kept (`--rebuild-base` makes it again);
2. the **router image** is built from the unchanged `Dockerfile` with
   `buildah bud --isolation chroot --storage-driver vfs --build-arg
   BASE_IMAGE=localhost/router-base:bookworm`; pip inside the build reaches PyPI. If
   the host's pip trusts an extra CA (`PIP_CERT`, as behind an intercepting proxy), that
   bundle is mounted into the build and named by the `PIP_CERT` build argument;
3. `router check` runs inside it (`buildah from` + `buildah run`), as the image's user.

Containers storage lives in the cache folder (`$ROUTER_STACK_CACHE` or
`~/.cache/livekit-menu-router/containers`), with the vfs driver: slower and larger
than overlay, but it works as root in any sandbox, with no fuse or kernel overlay.
Missing tools (`buildah`, `debootstrap`) are installed with apt-get when root.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from router.core.errors import StackError
from router.stack.install import cache_dir

__all__ = [
    "BASE_TAG",
    "IMAGE_TAG",
    "Buildah",
    "ImageError",
    "build_base",
    "build_image",
    "ensure_tools",
    "main",
]

BASE_TAG = "localhost/router-base:bookworm"
"""The stand-in for python:3.11-slim."""
IMAGE_TAG = "localhost/livekit-menu-router:latest"
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates", "tzdata", "netbase", "passwd")
"""Python 3.11 with venv, and what python:3.11-slim carries besides (CA roots for TLS to
LiveKit, time zones for opening hours, /etc/services, useradd)."""
TOOLS = {"buildah": "buildah", "debootstrap": "debootstrap"}
"""Command -> Debian package."""
ROOT = Path(__file__).resolve().parents[2]
"""The checkout the image is built from (it holds the Dockerfile)."""


_BUILDAH_EXIT = re.compile(r"^(subprocess exited with status \d+|Error: exit status \d+)\s*$")
"""What `buildah run` itself adds to stderr when the command fails."""


class ImageError(StackError):
    """The image could not be built or run; the message is one sentence (and a log tail)."""


def _say(message: str, quiet: bool) -> None:
    if not quiet:
        print(f"[image] {message}", file=sys.stderr, flush=True)


def ensure_tools(*, quiet: bool = False) -> None:
    """buildah and debootstrap, installed with apt-get if missing and we are root."""
    missing = sorted({pkg for cmd, pkg in TOOLS.items() if shutil.which(cmd) is None})
    if not missing:
        return
    names = " ".join(missing)
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise ImageError(f"missing tools; install them with: sudo apt-get install -y {names}")
    _say(f"installing {names}", quiet)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", *missing]):
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:]
            raise ImageError(f"`{' '.join(cmd)}` failed: {' '.join(tail)}")


def _pip_cert() -> Path | None:
    """The extra CA bundle the host's pip trusts, if any (PIP_CERT or pip.conf `cert`)."""
    named = os.environ.get("PIP_CERT")
    if named and Path(named).is_file():
        return Path(named)
    for conf in (Path("/etc/pip.conf"), Path.home() / ".config/pip/pip.conf"):
        try:
            lines = conf.read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            key, _, value = line.partition("=")
            if key.strip() == "cert" and Path(value.strip()).is_file():
                return Path(value.strip())
    return None


@dataclass(frozen=True, slots=True)
class Buildah:
    """buildah with this project's own storage (vfs) and chroot isolation."""

    storage: Path
    quiet: bool = False

    @classmethod
    def default(cls, *, quiet: bool = False) -> Buildah:
        return cls(cache_dir() / "containers", quiet)

    def command(self, *args: str) -> list[str]:
        return [
            "buildah",
            "--root",
            str(self.storage / "storage"),
            "--runroot",
            str(self.storage / "run"),
            "--storage-driver",
            "vfs",
            *args,
        ]

    def run(self, *args: str, capture: bool = True, timeout_s: float = 3600) -> str:
        """Run buildah; its output is returned (captured) or streamed to stderr."""
        env = dict(os.environ, BUILDAH_ISOLATION="chroot")
        try:
            done = subprocess.run(
                self.command(*args),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE if capture or self.quiet else sys.stderr,
                stderr=subprocess.PIPE if capture or self.quiet else sys.stderr,
                text=True,
                env=env,
                timeout=timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ImageError(f"`buildah {args[0]}` did not finish in {timeout_s:.0f} s") from None
        if done.returncode != 0:
            tail = "\n".join(((done.stderr or "") + (done.stdout or "")).splitlines()[-15:])
            raise ImageError(f"`buildah {' '.join(args[:2])}` failed:\n{tail}")
        return (done.stdout or "").strip()

    def exists(self, image: str) -> bool:
        """Whether `image` is in this storage."""
        done = subprocess.run(
            self.command("inspect", "--type", "image", image),
            capture_output=True,
            check=False,
        )
        return done.returncode == 0

    @contextmanager
    def container(self, image: str) -> Iterator[str]:
        """A working container of `image` (`buildah from`), removed afterwards.

        With vfs, making one copies the whole image (seconds): reuse it for many commands.
        """
        name = self.run("from", "--pull=never", image)
        try:
            yield name
        finally:
            self.run("rm", name)

    def exec(
        self,
        container: str,
        *command: str,
        volumes: Sequence[str] = (),
        env: Sequence[str] = (),
        timeout_s: float = 300,
    ) -> subprocess.CompletedProcess[str]:
        """Run `command` in `container` as the image's user, like `docker run` would.

        `volumes` are `HOST:CONTAINER[:ro]` bind mounts and `env` `NAME=VALUE` settings,
        as with `docker run -v` and `-e`. Lines buildah adds to stderr about the exit
        status are removed, so stderr is the command's own.
        """
        options = [f"--volume={v}" for v in volumes] + [f"--env={e}" for e in env]
        done = subprocess.run(
            self.command("run", "--isolation", "chroot", *options, container, "--", *command),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
        lines = done.stderr.splitlines(keepends=True)
        while lines and _BUILDAH_EXIT.match(lines[-1]):
            lines.pop()
        done.stderr = "".join(lines)
        return done

    def run_in(
        self,
        image: str,
        *command: str,
        volumes: Sequence[str] = (),
        env: Sequence[str] = (),
        timeout_s: float = 300,
    ) -> subprocess.CompletedProcess[str]:
        """`exec` in a fresh container of `image`, removed afterwards."""
        with self.container(image) as name:
            return self.exec(name, *command, volumes=volumes, env=env, timeout_s=timeout_s)

    def config(self, image: str) -> dict[str, Any]:
        """The image's configuration as `buildah inspect` reports it (Docker format)."""
        data: dict[str, Any] = json.loads(self.run("inspect", "--type", "image", image))
        return data


def build_base(buildah: Buildah, tag: str = BASE_TAG, *, mirror: str = MIRROR) -> float:
    """debootstrap a minimal bookworm with Python 3.11 and commit it as `tag`; seconds taken."""
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="router-base-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        _say(f"debootstrap {SUITE} with {', '.join(BASE_PACKAGES)} (a few minutes)", buildah.quiet)
        cmd = [
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(BASE_PACKAGES)}",
            SUITE,
            str(rootfs),
            mirror,
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=1800)
        if done.returncode != 0:
            log = rootfs / "debootstrap" / "debootstrap.log"
            tail = log.read_text(errors="replace") if log.is_file() else done.stderr + done.stdout
            raise ImageError(
                "debootstrap failed (are Debian's package servers reachable?):\n"
                + "\n".join(tail.splitlines()[-15:])
            )
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for path in (rootfs / junk).glob("*"):
                if path.is_file():
                    path.unlink()
        shutil.rmtree(rootfs / "usr/share/doc", ignore_errors=True)
        shutil.rmtree(rootfs / "usr/share/man", ignore_errors=True)
        archive = Path(tmp) / "rootfs.tar"
        subprocess.run(
            ["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(archive), "."], check=True
        )
        container = buildah.run("from", "scratch")
        try:
            buildah.run("add", container, str(archive), "/")
            buildah.run(
                "config",
                "--env",
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "--env",
                "LANG=C.UTF-8",
                "--cmd",
                "python3",
                "--label",
                "org.opencontainers.image.description="
                f"debootstrap {SUITE}: {' '.join(BASE_PACKAGES)}",
                container,
            )
            buildah.run("commit", "--rm", container, tag)
        except BaseException:
            subprocess.run(buildah.command("rm", container), capture_output=True, check=False)
            raise
    return time.monotonic() - start


def image_labels(context: Path = ROOT) -> dict[str, str]:
    """The Dockerfile's label arguments for a build of `context`: the package's version
    (pyproject.toml), the git commit and the origin's URL when it is a git checkout."""
    with open(context / "pyproject.toml", "rb") as f:
        version = str(tomllib.load(f)["project"]["version"])

    def git(*args: str) -> str:
        try:
            done = subprocess.run(
                ["git", "-C", str(context), *args], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return done.stdout.strip() if done.returncode == 0 else ""

    labels = {"VERSION": version, "REVISION": git("rev-parse", "HEAD") or "unknown"}
    source = git("remote", "get-url", "origin")
    if source and "@" not in source.split("://")[-1].split("/")[0]:  # never a credential
        labels["SOURCE"] = source
    return labels


def build_image(
    buildah: Buildah,
    tag: str = IMAGE_TAG,
    *,
    base: str = BASE_TAG,
    context: Path = ROOT,
    no_cache: bool = False,
) -> float:
    """`buildah bud` of the Dockerfile on `base`; seconds taken."""
    if not (context / "Dockerfile").is_file():
        raise ImageError(f"no Dockerfile in {context}: build from a checkout of the repository")
    start = time.monotonic()
    args = [
        "bud",
        "--isolation",
        "chroot",
        "--format",
        "docker",  # keeps HEALTHCHECK, which the OCI format has no field for
        # one layer over the base: vfs stores every layer as a full copy
        "--squash",
        # `--pull=X` in one word: buildah reads a separate word as the context
        "--pull=never" if buildah.exists(base) else "--pull=true",
        "--build-arg",
        f"BASE_IMAGE={base}",
        *(f"--build-arg={name}={value}" for name, value in image_labels(context).items()),
        "-t",
        tag,
        "-f",
        str(context / "Dockerfile"),
    ]
    cert = _pip_cert()
    if cert is not None:
        args += [
            "--volume",
            f"{cert}:/etc/ssl/build-ca.pem:ro",
            "--build-arg",
            "PIP_CERT=/etc/ssl/build-ca.pem",
        ]
    if no_cache:
        args.append("--no-cache")
    _say(f"buildah bud -t {tag} (base {base})", buildah.quiet)
    buildah.run(*args, str(context), capture=False)
    buildah.run("rmi", "--prune")  # the build stage and the image this one replaced
    return time.monotonic() - start


def ensure_image(
    *, quiet: bool = False, rebuild_base: bool = False, tag: str = IMAGE_TAG
) -> tuple[Buildah, dict[str, float]]:
    """Tools, base (unless it exists) and image; the seconds each step took."""
    timings: dict[str, float] = {}
    start = time.monotonic()
    ensure_tools(quiet=quiet)
    timings["tools"] = time.monotonic() - start
    buildah = Buildah.default(quiet=quiet)
    if rebuild_base or not buildah.exists(BASE_TAG):
        timings["base"] = build_base(buildah)
    timings["image"] = build_image(buildah, tag)
    return buildah, timings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m router.stack.image",
        description="Build the router's image with buildah (no Docker engine needed).",
    )
    parser.add_argument("--tag", default=IMAGE_TAG, help="image name (default %(default)s)")
    parser.add_argument("--rebuild-base", action="store_true", help="debootstrap the base again")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the result")
    sub = parser.add_subparsers(dest="action")
    sub.add_parser("build", help="build (the default), then run `router check` in the image")
    run_p = sub.add_parser("run", help="run a command in the image (after building it)")
    run_p.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND ...")
    args = parser.parse_args(argv)
    try:
        buildah, timings = ensure_image(
            quiet=args.quiet, rebuild_base=args.rebuild_base, tag=args.tag
        )
        command = [c for c in getattr(args, "command", None) or [] if c != "--"] or [
            "router",
            "check",
            "/etc/router/menus.yaml",
        ]
        done = buildah.run_in(args.tag, *command)
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    took = ", ".join(f"{step} {seconds:.0f} s" for step, seconds in timings.items())
    print(
        f"[image] {args.tag}: {took}; `{' '.join(command)}` exited {done.returncode}",
        file=sys.stderr,
    )
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
