# The two commands of the README. Each sets everything up first (idempotent, fast when already done).
.PHONY: setup demo test test-network bench build fuzz-api soak

setup:
	@./scripts/setup

demo: setup
	@.venv/bin/bledger demo

test: setup
	.venv/bin/mypy chain_client bench tests api
	.venv/bin/python -m pytest

test-network: setup
	.venv/bin/python -m pytest -m network tests/test_network.py

bench: setup
	.venv/bin/python -m bench

build: setup
	.venv/bin/bledger build

# Schemathesis over the API's OpenAPI: 25 generated requests per operation (over 1,000 in all); no 500, every
# response as declared.
fuzz-api: setup
	BLEDGER_FUZZ_EXAMPLES=25 .venv/bin/python -m pytest tests/api/test_schema.py -k fuzz -q -s

# The invariant state machine (tests/ledger_machine.py) for at least 10,000 random steps on a fresh anvil node.
soak: setup
	.venv/bin/python -m tests.soak --steps 10000
