"""menus.schema.json as editors use it: through the YAML language server they ship.

VS Code's YAML extension (and most other editors') runs npm's `yaml-language-server`;
here it runs the same way, over the Language Server Protocol on stdin/stdout, at the
version pinned by tests/editor/package-lock.json (installed by `router.stack.install`'s
npm step into the stack's cache). The test fails, never skips, when it cannot start.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from router.stack import install

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCHEMA = ROOT / "menus.schema.json"


class LanguageServer:
    """A minimal LSP client: requests with ids, notifications, and the server's pushes."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.next_id = 0
        self.waiting: dict[int, asyncio.Future[Any]] = {}
        self.diagnostics: dict[str, asyncio.Queue[list[dict[str, Any]]]] = {}
        self.reader = asyncio.ensure_future(self._read())

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def request(self, method: str, params: dict[str, Any]) -> Any:
        self.next_id += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.waiting[self.next_id] = future
        self._send({"id": self.next_id, "method": method, "params": params})
        return await asyncio.wait_for(future, 30)

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self._send({"method": method, "params": params})

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while True:
            header = await self.proc.stdout.readuntil(b"\r\n\r\n")
            length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
            message = json.loads(await self.proc.stdout.readexactly(length))
            if "id" in message and "method" in message:  # the server asks us
                result: Any = None
                if message["method"] == "workspace/configuration":
                    result = [SETTINGS["yaml"] for _ in message["params"]["items"]]
                self._send({"id": message["id"], "result": result})
            elif "id" in message:
                future = self.waiting.pop(message["id"])
                if "error" in message:
                    future.set_exception(RuntimeError(message["error"]))
                else:
                    future.set_result(message.get("result"))
            elif message.get("method") == "textDocument/publishDiagnostics":
                uri = message["params"]["uri"]
                self.diagnostics.setdefault(uri, asyncio.Queue()).put_nowait(
                    message["params"]["diagnostics"]
                )

    async def open(self, path: Path, text: str | None = None) -> list[dict[str, Any]]:
        """Open a document; the diagnostics the server publishes for it."""
        uri = path.as_uri()
        if text is None:
            text = await asyncio.to_thread(path.read_text)
        queue = self.diagnostics.setdefault(uri, asyncio.Queue())
        self.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": "yaml",
                    "version": 1,
                    "text": text,
                }
            },
        )
        return await asyncio.wait_for(queue.get(), 30)


SETTINGS: dict[str, Any] = {
    "yaml": {
        "validate": True,
        "completion": True,
        "hover": True,
        "schemas": {SCHEMA.as_uri(): ["*.yaml"]},
        "schemaStore": {"enable": False},
    }
}


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LanguageServer]:
    packages = install.ensure_npm_packages(
        HERE, "editor", "yaml-language-server", "the editor check", quiet=True
    )
    node = shutil.which("node") or shutil.which("nodejs")
    assert node is not None, "node is not installed (Debian's nodejs comes with npm)"
    main = packages / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"
    proc = await asyncio.create_subprocess_exec(
        node,
        str(main),
        "--stdio",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    lsp = LanguageServer(proc)
    await lsp.request(
        "initialize",
        {
            "processId": None,
            "rootUri": tmp_path.as_uri(),
            "capabilities": {
                "workspace": {"configuration": True},
                "textDocument": {"completion": {"completionItem": {"snippetSupport": False}}},
            },
        },
    )
    lsp.notify("initialized", {})
    lsp.notify("workspace/didChangeConfiguration", {"settings": SETTINGS})
    try:
        yield lsp
    finally:
        lsp.reader.cancel()
        proc.kill()
        await proc.wait()


async def test_the_example_file_has_no_diagnostics(server: LanguageServer) -> None:
    for name in ("menus.yaml", "tests/core/clinic/menus.yaml"):
        diagnostics = await server.open(ROOT / name)
        assert diagnostics == [], (name, diagnostics)


async def test_a_misspelt_key_is_flagged_at_its_line(
    server: LanguageServer, tmp_path: Path
) -> None:
    broken = tmp_path / "menus.yaml"
    broken.write_text(
        "version: 1\n"
        "menus:\n"
        "  main:\n"
        "    greeting: Welcome.\n"
        "    options:\n"
        '      "1": {transfer: "tel:+15105550100"}\n'
        "    timeouts: {first_digt: 5s}\n"
    )
    diagnostics = await server.open(broken)
    lines = sorted({d["range"]["start"]["line"] + 1 for d in diagnostics})
    assert lines == [7], diagnostics
    assert any("first_digt" in d["message"] for d in diagnostics), diagnostics


async def test_completion_offers_the_keys_of_a_menu(server: LanguageServer, tmp_path: Path) -> None:
    draft = tmp_path / "menus.yaml"
    text = "version: 1\nmenus:\n  main:\n    gree\n"
    draft.write_text(text)
    await server.open(draft)
    result = await server.request(
        "textDocument/completion",
        {"textDocument": {"uri": draft.as_uri()}, "position": {"line": 3, "character": 8}},
    )
    items = result["items"] if isinstance(result, dict) else result
    labels = {item["label"] for item in items}
    assert {"greeting", "options", "prompt"} <= labels, sorted(labels)
