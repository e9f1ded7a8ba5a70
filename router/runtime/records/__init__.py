"""A record of every call, one JSON line each, built from the navigator's notes.

The navigator already says everything worth recording (its typed notes,
`router.core.events.AnyNote`); the record is one typed schema (`CallRecord` and its
entries, written out as today's JSON by `as_dict()`, read back by `from_json`), and
the recorder only adds the call's identity and clock, masks the caller's number, and
gives the line when the call ends. Sinks are shared by every call in the process, so
writes are serialised and each line is written whole.

By concept: `schema` (the record as typed values, its JSON line and back), `fields`
(a JSON object's fields checked as the reader needs them), `recorder` (the record built
from the notes), `masking` (callers' numbers kept out), `sink` (where lines go).
"""

from __future__ import annotations

from router.runtime.records.masking import destination_label, mask_digits, mask_number
from router.runtime.records.recorder import MAX_KEYS_RECORDED, CallRecorder
from router.runtime.records.schema import (
    CallRecord,
    KeyEntry,
    LimitEntry,
    MenuVisit,
    TransferEntry,
)
from router.runtime.records.sink import RecordSink

__all__ = [
    "MAX_KEYS_RECORDED",
    "CallRecord",
    "CallRecorder",
    "KeyEntry",
    "LimitEntry",
    "MenuVisit",
    "RecordSink",
    "TransferEntry",
    "destination_label",
    "mask_digits",
    "mask_number",
]
