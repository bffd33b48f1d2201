"""Invariants under random load: a short run of the Hypothesis state machine (``tests/ledger_machine.py``) on the
anvil node; ``make soak`` runs the same machine for at least 10,000 steps."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from chain_client.anvil import AnvilNode
from chain_client.backends import RpcBackend
from tests.conftest import World, _base_state
from tests.ledger_machine import LedgerMachine, Stats


@pytest.fixture(scope="module")
def machine_world(anvil_node: AnvilNode) -> World:
    return _base_state(RpcBackend(anvil_node.url))


def test_random_acts_keep_every_invariant(machine_world: World) -> None:
    stats = Stats()
    machine = type("ShortRun", (LedgerMachine,), {"world": machine_world, "stats": stats})
    run_state_machine_as_test(machine, settings=settings(  # type: ignore[arg-type]
        max_examples=8, stateful_step_count=20, deadline=None, derandomize=True, database=None,
        suppress_health_check=list(HealthCheck)))
    assert stats.violations == []
    assert stats.steps >= 80
    # the run exercised both sides of the rules: acts that went through and acts the contracts refused
    assert {"apply", "certify", "transfer", "open claim"} <= set(stats.accepted)
    assert sum(stats.refused.values()) > 0
