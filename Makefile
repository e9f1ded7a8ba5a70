# The two commands of the README's quick start, and what they need.
PYTHON ?= python3
PIP_FLAGS ?= --quiet --disable-pip-version-check

.PHONY: install local test test-core stack

install:
	$(PYTHON) -m pip install $(PIP_FLAGS) -e '.[test]'

## make local: the whole stack on 127.0.0.1 (Redis, livekit-server, SIP bridge, the router)
local: install
	$(PYTHON) -m router local

## make test: every test, the end-to-end ones over the real local stack
test: install stack
	$(PYTHON) -m pytest -q

## the menu engine only (no stack needed)
test-core: install
	$(PYTHON) -m pytest -q -m core

stack:
	$(PYTHON) -m router.stack.install
