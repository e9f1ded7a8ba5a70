"""`router test [FILE]`: the admin's expected call paths, run through the navigator.

A test file (`menus.test.yaml`, see docs/menu-tests.md) names a menu file and lists
calls: the number dialled, the time, the keys pressed, how transfers end, and where
the call must end up. Each call is run by `router simulate`'s machinery (the same
navigator a real call uses, with an instant player and a clock that jumps to each
time-out), so a passing test file says what callers will really get, not what a
copy of the rules thinks they would get.

Why a file of cases rather than Python tests: the people who edit `menus.yaml` are
not the people who write Python. A change to the menus (a new option, new opening
hours) is checked by `router check` for consistency and by `router test` for
intent: "a call to the Spanish number on a Sunday still reaches Spanish voicemail".

The test file is untrusted text like the menu file: it is decoded, parsed and its
mappings read by the same layer (`router.core.loader.source` and `.nodes`: the safe
YAML reader, did-you-mean, duplicate keys), and every mistake in it is reported at
once as `FILE:LINE:COL: error: message (hint)`.

The report gives each case PASS or FAIL with the path the call took (menus, keys,
transfers and how they ended), then coverage: the menus, options, extensions and
destinations of the menu file that no case reached. Exit status: 0 when every case
passes, 1 when one fails or either file has errors.

The package, by concept: `cases` (the test file as values), `reading` (the file read
and checked), `names` (the names expectations use, against the menu file), `comments`
(values a YAML comment cut short), `running` (one case through the simulator),
`coverage` (what no case reaches), `command` (the options, the run, the report).
"""

from __future__ import annotations

from router.admin.menutest.cases import (
    DEFAULT_MENU_FILE,
    DEFAULT_TEST_FILE,
    Case,
    Expectation,
    TestFile,
    WantedTransfer,
)
from router.admin.menutest.command import add_arguments, run
from router.admin.menutest.coverage import Coverage
from router.admin.menutest.names import check_names
from router.admin.menutest.reading import read_test_file
from router.admin.menutest.running import CaseResult, run_case

__all__ = [
    "DEFAULT_MENU_FILE",
    "DEFAULT_TEST_FILE",
    "Case",
    "CaseResult",
    "Coverage",
    "Expectation",
    "TestFile",
    "WantedTransfer",
    "add_arguments",
    "check_names",
    "read_test_file",
    "run",
    "run_case",
]
