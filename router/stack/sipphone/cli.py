"""The phone's command line: ``python -m router.stack.caller TARGET --keys 1 --notify 200``.

(``python -m router.stack.sipphone`` is the same.)  Exit status 0 when the call was
answered, 1 otherwise, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import Sequence

from router.stack.sipphone.phone import SipCall, place_call
from router.stack.sipphone.script import parse_keys

__all__ = ["main"]


def _status_arg(text: str) -> int | None:
    if text.lower() in ("none", "no", "-"):
        return None
    value = int(text)
    if not 100 <= value <= 699:
        raise argparse.ArgumentTypeError(f"not a SIP status: {text}")
    return value


def _header_arg(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected 'Name: value', got {text!r}")
    return name.strip(), value.strip()


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m router.stack.caller",
        description="Place one scripted SIP call (UDP, PCMU, RFC 4733 keys, REFER/NOTIFY) "
        "and print what happened.",
    )
    p.add_argument("target", help="SIP URI to call, e.g. sip:+15105550000@127.0.0.1:5060")
    p.add_argument("--keys", default="", help='keys to press: "1", "1,2", "4s 1 3s 2" (Ns = pause)')
    p.add_argument(
        "--first-key-delay",
        type=float,
        default=2.5,
        metavar="S",
        help="pause from the answer to the first key (default 2.5)",
    )
    p.add_argument(
        "--key-gap",
        type=float,
        default=0.5,
        metavar="S",
        help="pause between keys when --keys gives none (default 0.5)",
    )
    p.add_argument(
        "--key-duration",
        type=int,
        default=160,
        metavar="MS",
        help="length of each key press (default 160)",
    )
    p.add_argument(
        "--refer-status",
        type=int,
        default=202,
        metavar="CODE",
        help="answer to a REFER (default 202; e.g. 403 to refuse)",
    )
    p.add_argument(
        "--notify",
        type=_status_arg,
        default=200,
        metavar="CODE",
        help="final NOTIFY sipfrag status (default 200; 'none' to send none)",
    )
    p.add_argument(
        "--notify-delay",
        type=float,
        default=0.5,
        metavar="S",
        help="pause from the REFER to the final NOTIFY (default 0.5)",
    )
    p.add_argument("--no-trying", action="store_true", help="skip the 100 Trying NOTIFY")
    p.add_argument("--hangup-after", type=float, metavar="S", help="hang up S after the answer")
    p.add_argument(
        "--cancel-after-ringing",
        type=float,
        metavar="S",
        help="CANCEL S after the first 180 Ringing, if not answered by then",
    )
    p.add_argument(
        "--hangup-after-audio",
        type=float,
        metavar="S",
        help="hang up S after the first non-silent audio",
    )
    p.add_argument(
        "--hangup-after-keys", type=float, metavar="S", help="hang up S after the last key"
    )
    p.add_argument(
        "--hangup-after-notify", type=float, metavar="S", help="hang up S after the final NOTIFY"
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="overall limit, then BYE or CANCEL (default 60)",
    )
    p.add_argument("--record", metavar="WAV", help="save received audio as a WAV file")
    p.add_argument(
        "--from",
        dest="caller_id",
        default="+15105550100",
        metavar="NUMBER",
        help="caller number, the user part of From (default +15105550100)",
    )
    p.add_argument(
        "--local-host",
        default="127.0.0.1",
        help="address to bind and advertise (default 127.0.0.1)",
    )
    p.add_argument(
        "--header",
        type=_header_arg,
        action="append",
        default=[],
        metavar="'X-Name: value'",
        help="extra INVITE header (repeatable)",
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=200.0,
        metavar="RMS",
        help="per-packet RMS that counts as audio (default 200)",
    )
    p.add_argument(
        "--no-audio",
        action="store_true",
        help="send no RTP audio (with no --keys, no RTP at all: media that never arrives)",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("-v", "--verbose", action="store_true", help="log every SIP message to stderr")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """CLI; exit status 0 when the call was answered, 1 otherwise, 2 for bad usage."""
    args = _build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.ERROR,
        format="%(asctime)s %(message)s",
        stream=sys.stderr,
    )
    try:
        SipCall(args.target)  # validates the URI before any socket exists
        keys = parse_keys(args.keys, duration_ms=args.key_duration)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        report = asyncio.run(
            place_call(
                args.target,
                keys=keys,
                first_key_delay_s=args.first_key_delay,
                key_gap_s=args.key_gap,
                key_duration_ms=args.key_duration,
                refer_status=args.refer_status,
                notify_trying=not args.no_trying,
                notify_status=args.notify,
                notify_delay_s=args.notify_delay,
                hangup_after_s=args.hangup_after,
                cancel_after_ringing_s=args.cancel_after_ringing,
                hangup_after_audio_s=args.hangup_after_audio,
                hangup_after_keys_s=args.hangup_after_keys,
                hangup_after_notify_s=args.hangup_after_notify,
                timeout_s=args.timeout,
                record_to=args.record,
                caller_id=args.caller_id,
                local_host=args.local_host,
                invite_headers=args.header,
                audio_threshold_rms=args.threshold,
                send_audio=not args.no_audio,
            )
        )
        if args.json:
            print(json.dumps(report.to_dict(), indent=2))
        else:
            print(report.summary())
        return 0 if report.answered else 1
    return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
