"""OpenTelemetry traces of calls: a span per call, child spans for its menus, keys and
transfers.

Off unless the standard variables ask for it: `setup()` installs an OTLP exporter
(HTTP/protobuf, opentelemetry-exporter-otlp, installed with livekit-agents) when
`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set, unless
`OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`; the exporter reads the other
`OTEL_EXPORTER_OTLP_*` variables itself, and `OTEL_SERVICE_NAME` names the service
(`menu-router` by default). Otherwise the API's no-op tracer makes every span free.

Spans carry what an operator needs and nothing personal: the room as logs name it
(masked), the number dialled (the business's), the menu version, menu names, keys,
the transfer's destination name or directory entry (`transfer_label`), its outcome
and SIP status. Never the caller's number or the digits of an extension dialled.
"""

from __future__ import annotations

import logging
import os

from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode, Tracer

from router.core.events import (
    AnyNote,
    CallerMatched,
    CallFinished,
    InvalidEntry,
    KeyPressed,
    LanguageChosen,
    LimitReached,
    MenuEntered,
    NoInput,
)

__all__ = ["CallTracer", "setup"]

log = logging.getLogger(__name__)

TRACER_NAME = "router"


def setup(env: dict[str, str] | None = None) -> bool:
    """Install the OTLP span exporter if the environment asks for it; True if it did."""
    env = dict(os.environ) if env is None else env
    if env.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    if env.get("OTEL_TRACES_EXPORTER", "otlp").lower() == "none":
        return False
    if not (
        env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    ):
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({SERVICE_NAME: env.get("OTEL_SERVICE_NAME") or "menu-router"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    log.info("traces: exporting calls' spans with OTLP")
    return True


class CallTracer:
    """One call's spans, fed the navigator's notes and the transfers as they come.

    Parents are given explicitly: the notes arrive from DTMF callbacks, timers and
    tasks, each in a context of its own, so the current-span context cannot be relied on.
    """

    def __init__(self, tracer: Tracer | None = None) -> None:
        self._tracer = tracer or trace.get_tracer(TRACER_NAME)
        self._call: Span | None = None
        self._menu: Span | None = None
        self._transfer: Span | None = None

    def start(self, *, room: str, dialled: str | None, menu_version: str) -> None:
        self._call = self._tracer.start_span(
            "call",
            attributes={
                "router.room": room,
                "router.dialled": dialled or "",
                "router.menu_version": menu_version,
            },
        )

    def _child(self, name: str, parent: Span | None, **attributes: str | int) -> Span:
        context = trace.set_span_in_context(parent) if parent is not None else None
        return self._tracer.start_span(name, context=context, attributes=attributes)

    def transfer_started(self, destination: str) -> None:
        """A transfer request goes out (`destination`: its bounded name, `transfer_label`)."""
        self._end_transfer()
        self._transfer = self._child(
            "transfer", self._menu or self._call, **{"router.destination": destination}
        )

    def transfer_ended(self, outcome: str, sip_status: int | None) -> None:
        """Its answer: `succeeded` or the failure's kind, and the SIP status if any."""
        if self._transfer is None:
            return
        self._transfer.set_attribute("router.outcome", outcome)
        if sip_status is not None:
            self._transfer.set_attribute("router.sip_status", sip_status)
        if outcome != "succeeded":
            self._transfer.set_status(Status(StatusCode.ERROR, outcome))
        self._end_transfer()

    def note(self, note: AnyNote) -> None:
        # keys, invalid entries, silences and limits are instants: a span each, so a
        # trace viewer shows the caller's steps in order
        menu = note.menu or ""
        match note:
            case MenuEntered():
                if self._menu is not None:
                    self._menu.end()
                self._menu = self._child("menu", self._call, **{"router.menu": menu})
            case CallerMatched(rule=rule):
                self._instant("caller_rule", **{"router.caller_rule": rule})
            case LanguageChosen(language=language):
                self._instant("language", **{"router.language": language})
            case KeyPressed(key=key):
                self._instant("key", **{"router.menu": menu, "router.key": key.value})
            case InvalidEntry():
                self._instant("invalid", **{"router.menu": menu})
            case NoInput():
                self._instant("no_input", **{"router.menu": menu})
            case LimitReached(limit=limit):
                self._instant("limit_reached", **{"router.menu": menu, "router.limit": limit.value})
            case CallFinished(reason=reason):
                self.end(reason.value)
            case _:
                pass

    def _instant(self, name: str, **attributes: str | int) -> None:
        self._child(name, self._menu or self._call, **attributes).end()

    def _end_transfer(self) -> None:
        if self._transfer is not None:
            self._transfer.end()
            self._transfer = None

    def end(self, reason: str) -> None:
        """The call is over (idempotent): every open span ends, the call's with its reason."""
        self._end_transfer()
        if self._menu is not None:
            self._menu.end()
            self._menu = None
        if self._call is not None:
            self._call.set_attribute("router.end", reason)
            self._call.end()
            self._call = None
