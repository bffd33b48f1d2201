"""``make soak``: the invariant state machine (``tests/ledger_machine.py``) for at least 10,000 steps on a fresh
anvil node; prints the steps, the acts that went through and were refused, and the invariant violations.

    .venv/bin/python -m tests.soak [--steps 10000] [--steps-per-example 50] [--rpc URL]

Exit code 0 when no invariant was violated, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import time

from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from chain_client.anvil import AnvilNode
from chain_client.backends import RpcBackend
from tests.conftest import _base_state
from tests.ledger_machine import LedgerMachine, Stats


def soak(url: str, steps: int, per_example: int, out: object = sys.stdout) -> Stats:
    world = _base_state(RpcBackend(url))
    stats = Stats()
    machine = type("Soak", (LedgerMachine,), {"world": world, "stats": stats})
    started = time.monotonic()
    rounds = 0
    while stats.steps < steps:
        rounds += 1
        try:
            run_state_machine_as_test(machine, settings=settings(  # type: ignore[arg-type]
                max_examples=10, stateful_step_count=per_example, deadline=None, database=None,
                suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.reuse, Phase.generate]))
        except AssertionError as exc:  # an invariant failed: the failing sequence is in the output above
            print(f"VIOLATION: {exc}", file=sys.stderr)
        except Exception as exc:  # noqa: BLE001 - an act failed in a way the machine does not expect: count it
            stats.violations.append(f"unexpected {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
            print(f"ERROR: {type(exc).__name__}: {exc}", file=sys.stderr)
        print(f"round {rounds}: {stats.steps:,} steps, {len(stats.violations)} violations, "
              f"{time.monotonic() - started:.0f} s", flush=True)
    return stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--steps-per-example", type=int, default=50)
    parser.add_argument("--rpc", help="an anvil or Hardhat node (snapshots needed); default: start anvil")
    args = parser.parse_args()
    started = time.monotonic()
    if args.rpc:
        stats = soak(args.rpc, args.steps, args.steps_per_example)
    else:
        with AnvilNode() as node:
            stats = soak(node.url, args.steps, args.steps_per_example)
    accepted, refused = sum(stats.accepted.values()), sum(stats.refused.values())
    print(f"steps: {stats.steps:,} ({accepted:,} acts went through, {refused:,} refused by the contracts) "
          f"in {time.monotonic() - started:.0f} s")
    print("acts that went through: " + ", ".join(f"{k} {v}" for k, v in stats.accepted.most_common()))
    print("refusals: " + ", ".join(f"{k} {v}" for k, v in stats.refused.most_common()))
    print(f"violations: {len(stats.violations)}")
    for v in stats.violations[:20]:
        print(f"  {v}")
    return 1 if stats.violations else 0


if __name__ == "__main__":
    raise SystemExit(main())
