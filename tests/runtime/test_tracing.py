"""Traces: a span per call with its menus, keys and transfer, collected in memory.

The exporter is OpenTelemetry's in-memory one (the OTLP exporter would need a collector);
the call is the offline one of test_call_offline.py, with real rtc objects.
"""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
from pathlib import Path

from livekit import api, rtc
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from router.runtime import tracing
from router.runtime.call import CallSession, SessionOptions
from tests.runtime.test_call_offline import (
    Call,
    FakeLiveKitAPI,
    fake,
    menu_file,
    rendered_cache,
    sip_caller,
)
from tests.runtime.twirp_fake import sip_failure

__all__ = ["fake"]  # the Twirp fake fixture, shared with the call tests


async def traced_call(fake: FakeLiveKitAPI) -> tuple[Call, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    mf = menu_file()
    cache = await rendered_cache(mf)
    lk = api.LiveKitAPI(url=fake.url, api_key="devkey", api_secret="s" * 32)
    session = CallSession(
        rtc.Room(), mf, cache, lk, options=SessionOptions(), tracer=provider.get_tracer("t")
    )
    call = Call(session, sip_caller(), lk)
    await call.until(lambda: session.player.playing)
    return call, exporter


async def test_a_call_is_a_span_with_its_menus_keys_and_transfer(fake: FakeLiveKitAPI) -> None:
    fake.answer("livekit.SIP/TransferSIPParticipant", sip_failure(486, "Busy Here"))
    call, exporter = await traced_call(fake)
    call.press("2")  # support
    await call.until(lambda: call.session.navigator.menu == "support")
    call.press("*")  # back to main
    await call.until(lambda: call.session.navigator.menu == "main")
    call.press("1")  # sales: busy
    await call.until(lambda: len(fake.transfers()) == 1)
    await call.until(lambda: call.session.player.playing)
    call.hang_up()
    await call.record()

    spans = exporter.get_finished_spans()
    (root,) = [s for s in spans if s.name == "call"]
    assert root.attributes["router.end"] == "caller_hangup"
    assert root.attributes["router.menu_version"] == "testversion"
    menus = [s.attributes["router.menu"] for s in spans if s.name == "menu"]
    assert menus == ["main", "support", "main", "main"]
    assert all(s.parent.span_id == root.context.span_id for s in spans if s.name == "menu")
    keys = [s.attributes["router.key"] for s in spans if s.name == "key"]
    assert keys == ["2", "*", "1"]
    (transfer,) = [s for s in spans if s.name == "transfer"]
    assert transfer.attributes["router.destination"] == "sales"
    assert transfer.attributes["router.outcome"] == "busy"
    assert transfer.attributes["router.sip_status"] == 486
    assert transfer.status.status_code.name == "ERROR"
    assert root.context.trace_id == transfer.context.trace_id
    text = repr([dict(s.attributes or {}) for s in spans])
    assert "9876" not in text, "the caller's number is in no span"


def test_traces_are_off_unless_the_standard_variables_ask() -> None:
    assert tracing.setup({}) is False
    assert tracing.setup({"OTEL_EXPORTER_OTLP_ENDPOINT": "x", "OTEL_SDK_DISABLED": "true"}) is False
    assert (
        tracing.setup({"OTEL_EXPORTER_OTLP_ENDPOINT": "x", "OTEL_TRACES_EXPORTER": "none"}) is False
    )


EXPORT = """
import sys
from opentelemetry import trace
from router.runtime.tracing import CallTracer, setup
assert setup()
tracer = CallTracer()
tracer.start(room="call-_*******9876_x", dialled="+15105550150", menu_version="v1")
tracer.end("transferred")
trace.get_tracer_provider().force_flush()
"""


def test_spans_go_to_the_otlp_endpoint_the_environment_names(tmp_path: Path) -> None:
    """A real OTLP/HTTP export to a collector stand-in on loopback (it keeps the bodies)."""
    received: list[tuple[str, bytes]] = []

    class Collector(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        done = subprocess.run(
            [sys.executable, "-c", EXPORT],
            env={
                "PATH": "/usr/bin:/bin",
                "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{server.server_port}",
                "OTEL_SERVICE_NAME": "menu-router-test",
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 0, done.stderr
    (path, body), *_ = received
    assert path == "/v1/traces"
    assert b"menu-router-test" in body and b"router.menu_version" in body
    assert b"9876" not in body.replace(b"*******9876", b"")
