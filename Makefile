# The two commands of the README. Each sets everything up first (idempotent, fast when already done).
.PHONY: setup demo test bench build

setup:
	@./scripts/setup

demo: setup
	@.venv/bin/bledger demo

test: setup
	.venv/bin/mypy chain_client bench tests
	.venv/bin/python -m pytest

bench: setup
	.venv/bin/python -m bench

build: setup
	.venv/bin/bledger build
