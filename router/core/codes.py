"""The `code` of every `Problem`, one table: a short stable name per rule, for tests and tools.

A message may be reworded; its code stays. Every `code=` the router writes is a key
here (tests/core/test_codes.py reads the package for them, and finds none unused).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["CODES"]

CODES: Mapping[str, str] = MappingProxyType(
    {
        # the file as bytes and YAML (router/core/loader/source.py, router/core/yamlsafe.py)
        "too-big": "a file over the reader's size limit",
        "not-utf8": "bytes that are not UTF-8 text",
        "binary": "a file that is not text at all",
        "empty": "an empty file",
        "unreadable": "a file (the menu file, a test file) that cannot be opened or read",
        "yaml-syntax": "YAML that does not parse",
        "yaml-tag": "a YAML tag (!!python/...) the safe reader refuses",
        "yaml-documents": "more than one YAML document in a file",
        "yaml-merge": "a YAML merge key (<<) on something not a mapping",
        "hostile": "input past the reader's limits (depth, nodes, alias bombs)",
        "too-many-problems": "the problems past the most a file shows",
        "pound-comment": "an unquoted `#:` key, which YAML reads as a comment",
        # the shape of the file (router/core/loader/)
        "bad-version": "a `version` other than 1",
        "not-mapping": "a list or text where a mapping belongs",
        "not-list": "a mapping or text where a list belongs",
        "not-text": "a mapping or list where text belongs",
        "not-boolean": "a value that is not true or false",
        "not-integer": "a value that is not a whole number",
        "missing-key": "a required key left out",
        "unknown-key": "a key the format does not have",
        "duplicate-key": "a key given twice in one mapping",
        "duplicate-name": "two caller rules of one name, or a language declared twice",
        "empty-value": "a key with nothing after it where a value is needed",
        "bad-value": "a word not among the few a key takes",
        "bad-name": "a name not made of letters, digits, _ and -",
        "no-menus": "a file without menus",
        "no-default": "`numbers` without its `default` entry",
        "bad-number": "a key of `numbers` neither E.164 nor `default`",
        "bad-key": "an option's key that is not a keypad key",
        "bad-action": "a word that is not an action",
        "no-verb": "an action mapping without a verb",
        "two-verbs": "an action with two verbs",
        "two-messages": "an action with two messages",
        "bad-target": "a transfer target that is not a tel:/sip: URI or a destination",
        "target-space": "spaces inside a transfer target",
        "bad-header": "a SIP header that may not be sent with a transfer",
        "bad-duration": "a duration that cannot be read or is out of range",
        "bad-limit": "a whole number below its least value",
        "bad-prompt": "a prompt that is neither text, a recording nor per language",
        "prompt-too-long": "a message longer than the speech limit",
        "bad-audio": "a recording that cannot be played",
        "bad-caller": "a caller rule's `from` that is not a number, prefix or anonymous",
        "caller-rule-action": "a caller rule that does not do exactly one thing",
        "bad-extension": "a directory key that is not an extension pattern",
        "empty-directory": "a directory without extensions",
        "bad-days": "days of opening hours that cannot be read",
        "bad-hours": "an interval of opening hours that cannot be read",
        "overlapping-hours": "two intervals of one day that overlap",
        "bad-holiday": "a holiday that is not a date",
        "duplicate-holiday": "a holiday given twice",
        "bad-timezone": "a time zone that is not an IANA name",
        "fixed-timezone": "a zone of a fixed offset where an office means its region",
        "schedule-closed": "`schedule` without `closed`, or `closed` without `schedule`",
        "bad-language": "a language code not shaped as BCP 47",
        "audio-with-languages": "a recording given once in a file of several languages",
        # whole-file rules (router/core/checker.py, extensions.py, spoken.py, languages.py)
        "unknown-menu": "a menu named that does not exist",
        "unknown-destination": "a destination named that does not exist",
        "unknown-directory": "a directory named that does not exist",
        "unknown-schedule": "a schedule named that does not exist",
        "unreachable": "a menu nothing reaches",
        "no-way-out": "menus that lead only to each other",
        "on-limit-stays": "an on_limit that keeps callers in the menu",
        "shadowed-caller-rule": "a caller rule an earlier one catches entirely",
        "shadowed-caller": "a caller rule's item an earlier rule catches",
        "hold-with-dialtone": "hold audio the dial tone mutes",
        "missing-audio": "a recording file that does not exist",
        "covered-extension": "a directory pattern an earlier one covers",
        "shadowed-extension": "an extension a menu's option key hides",
        "option-starts-extension": "an option key that starts a directory's extensions",
        "extension-prefix": "an extension that is the start of a longer one",
        "unknown-voice": "a voice the speech engine does not have",
        "mixed-language-text": "one text said in voices of different languages",
        "english-words": "the router's English words in a call in another language",
        "unknown-language": "a language named that the file does not declare",
        "voice-with-languages": "a menu's `voice` beside `languages`",
        "missing-language": "a prompt not given in a declared language",
        "language-not-switched": "a language toggle that leaves out a declared language",
        # test files (router/admin/menutest/)
        "test-file": "a problem of a menu test file",
    }
)
"""Each problem code and, in a few words, the rule it names."""
