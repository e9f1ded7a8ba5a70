"""The container image: built from the Dockerfile with buildah, run here without Docker.

The module fixture builds the image the way `python -m router.stack.image` does: the
stand-in base (debootstrap bookworm + Python 3.11) only if it is not in the cache yet,
then `buildah bud` of the unchanged Dockerfile, whose own build steps already run
`router check`, `router test` and render every prompt with espeak-ng. The tests then
run commands in fresh containers of the image (`buildah from` + `buildah run`), as
the image's user, the way `docker run` would.

Costs: a cold run (no base yet) takes about five minutes and needs Debian's package
servers and PyPI; with the base cached, about a minute and a half (the pip step).
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from router.stack.image import IMAGE_TAG, Buildah, ensure_image, image_labels

MENUS = "/etc/router/menus.yaml"


@pytest.fixture(scope="module")
def image() -> Iterator[Buildah]:
    buildah, _timings = ensure_image(quiet=True)
    yield buildah


@pytest.fixture(scope="module")
def container(image: Buildah) -> Iterator[str]:
    """One working container for every command (with vfs, each new one copies the image)."""
    with image.container(IMAGE_TAG) as name:
        yield name


@pytest.fixture(scope="module")
def config(image: Buildah) -> dict[str, Any]:
    docker: dict[str, Any] = image.config(IMAGE_TAG)["Docker"]["config"]
    return docker


def test_router_check_passes_in_the_image_as_a_non_root_user(
    image: Buildah, container: str
) -> None:
    done = image.exec(
        container,
        "sh",
        "-c",
        f"router check {MENUS} && id -u && python3 -c 'import os; print(os.geteuid())'",
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    # the image's copy of the example is judged as this checkout's (same counts, same version)
    example = Path(__file__).resolve().parents[2] / "menus.yaml"
    here = subprocess.run(
        [sys.executable, "-m", "router", "check", str(example)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert lines[0] == here.stdout.splitlines()[0].replace(str(example), MENUS)
    assert lines[1:] == ["10001", "10001"]


def test_the_image_is_configured_to_start_the_router(config: dict[str, Any]) -> None:
    assert config["User"] == "router:router"
    assert config["Entrypoint"] == ["router"] and config["Cmd"] == ["start"]
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["ROUTER_MENUS"] == MENUS
    assert env["ROUTER_METRICS_PORT"] == "9464" and env["ROUTER_METRICS_HOST"] == "0.0.0.0"
    assert env["PATH"].startswith("/opt/router/bin:")
    assert "9464/tcp" in config["ExposedPorts"] and "8081/tcp" in config["ExposedPorts"]
    assert env["ROUTER_HEALTH_PORT"] == "8081" and env["ROUTER_HEALTH_HOST"] == "0.0.0.0"
    assert env["ROUTER_LOG_FORMAT"] == "json"
    assert "ROUTER_HEALTH_PORT" in " ".join(config["Healthcheck"]["Test"])


def test_the_image_carries_the_oci_labels(config: dict[str, Any]) -> None:
    labels = config["Labels"]
    expected = image_labels()
    assert labels["org.opencontainers.image.version"] == expected["VERSION"] != "unknown"
    assert labels["org.opencontainers.image.revision"] == expected["REVISION"]
    assert labels["org.opencontainers.image.licenses"]
    assert "org.opencontainers.image.source" in labels


def test_the_bundled_tests_pass_in_the_image(image: Buildah, container: str) -> None:
    done = image.exec(container, "router", "test", "-q", "/etc/router/menus.test.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 failed" in done.stdout


def test_a_mounted_menu_file_replaces_the_bundled_one(
    image: Buildah, container: str, tmp_path: Path
) -> None:
    mine = tmp_path / "menus.yaml"
    mine.write_text("version: 1\nmenus:\n  main:\n    greting: hi\n")
    mine.chmod(0o644)
    done = image.exec(container, "router", "check", volumes=[f"{mine}:{MENUS}:ro"])
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == (
        f"{MENUS}:4:5: error: unknown key 'greting' in menu 'main' (did you mean 'greeting'?)"
    )


def test_router_start_without_credentials_says_so_in_one_sentence(
    image: Buildah, container: str
) -> None:
    done = image.exec(container, "router", "start")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "router start: LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET are not set; set them "
        "to your LiveKit server's URL and API key and secret (for a local stack: `router local`)"
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_healthcheck_probes_livekit_agents_health_endpoint(
    image: Buildah, container: str, config: dict[str, Any]
) -> None:
    """Unhealthy with nothing answering on the health port; healthy once GET / answers
    200, as livekit-agents' health server does while the worker is connected (the
    worker itself is tested against a real server in tests/e2e/test_metrics.py)."""
    kind, command = config["Healthcheck"]["Test"]
    assert kind == "CMD-SHELL"
    port = str(_free_port())  # chroot isolation shares the host's network: no clash with 8081
    down = image.exec(container, "sh", "-c", command, env=[f"ROUTER_HEALTH_PORT={port}"])
    assert down.returncode != 0
    serve = (
        f"timeout 20 python3 -m http.server --bind 127.0.0.1 {port} >/dev/null 2>&1 & "
        f"sleep 3; {command}"
    )
    up = image.exec(container, "sh", "-c", serve, env=[f"ROUTER_HEALTH_PORT={port}"])
    assert up.returncode == 0, up.stderr


def test_the_runtime_imports_and_speaks_in_the_image(image: Buildah, container: str) -> None:
    """livekit's FFI library, the agents framework and espeak-ng all load on the base."""
    script = (
        "import livekit.rtc, livekit.agents, sys; "
        "from router.runtime.prompts import EspeakSynthesizer; "
        "pcm, rate = EspeakSynthesizer().speak_sync('Hello.'); "
        "print(sys.version_info[:2], rate, len(pcm) > 1000)"
    )
    done = image.exec(container, "python3", "-c", script)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[0].endswith("True")
    assert done.stdout.startswith("(3, 11)")


def test_the_bundled_prompts_are_rendered_at_build_time(image: Buildah, container: str) -> None:
    """The worker finds every prompt in the cache: `router prompts` synthesises nothing new."""
    done = image.exec(
        container,
        "sh",
        "-c",
        "ls /var/cache/router/prompts | wc -l; "
        'python3 -c "import time; t = time.monotonic(); '
        "import subprocess; subprocess.run(['router', 'prompts', '/etc/router/menus.yaml'], "
        'check=True); print(round(time.monotonic() - t, 2))"',
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split()
    assert int(lines[0]) >= 33, "every prompt of the bundled file is in the cache"
    assert "in /var/cache/router/prompts" in done.stdout
