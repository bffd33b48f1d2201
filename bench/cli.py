"""The command line's own cost per act: wall time of ``bledger`` processes beside ``python -c pass``, against a
deployment on an anvil node started for the run.

Measured (median of N runs each, fresh processes): ``python -c pass`` (the interpreter alone, the anchor),
``bledger --help``, a read (``bledger cert show LOT --holder ADDR``) and an act (``bledger cert transfer``). The
CLI's overhead per act is the act's wall time minus the same act done in-process by the library (start-up,
imports, attaching to the deployment, loading the key).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.throughput import Setup
from chain_client.anvil import AnvilNode
from chain_client.vocabulary import identifier

TARGET_SECONDS = 0.4
BLEDGER = Path(sys.executable).with_name("bledger")


def wall(args: list[str], runs: int) -> float:
    """Median wall time of ``runs`` fresh processes running ``args`` (each must succeed)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(args, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {done.stderr or done.stdout}")
    return statistics.median(times)


def run(console: Console, runs: int = 5) -> None:
    with AnvilNode() as node, tempfile.TemporaryDirectory() as tmp:
        s = Setup(node.url)  # recycler = dev:4 holding a certified lot, cell maker = dev:5 registered
        deployment = Path(tmp) / "deployment.json"
        s.ledger.deployment.save(deployment)
        common = ["--rpc", node.url, "--deployment", str(deployment)]
        to = s.cell_maker.address
        python = wall([sys.executable, "-c", "pass"], runs)
        help_ = wall([str(BLEDGER), "--help"], runs)
        read = wall([str(BLEDGER), "cert", "show", str(s.lot), "--holder", to, *common], runs)
        shipments = iter(range(10**6))
        act_times = []
        for _ in range(runs):
            act_times.append(wall([str(BLEDGER), "cert", "transfer", str(s.lot), to, "1", "--shipment",
                                   f"CLI-{next(shipments)}", "--key", "dev:4", *common], 1))
        act = statistics.median(act_times)
        in_process = []
        for _ in range(runs):
            start = time.perf_counter()
            s.ledger.certificates.transfer(s.recycler, s.lot, to, 1, identifier(f"LIB-{next(shipments)}"))
            in_process.append(time.perf_counter() - start)
        library = statistics.median(in_process)
    overhead = act - library
    table = Table(title=f"Command line wall time (fresh process each, median of {runs})")
    table.add_column("command", justify="left")
    table.add_column("seconds", justify="right")
    table.add_row("python -c pass (anchor)", f"{python:.3f}")
    table.add_row("bledger --help", f"{help_:.3f}")
    table.add_row("bledger cert show LOT --holder ADDR (a read)", f"{read:.3f}")
    table.add_row("bledger cert transfer ... (an act)", f"{act:.3f}")
    table.add_row("the same transfer in-process through the library", f"{library:.3f}")
    console.print(table)
    console.print(f"target CLI overhead per act under {TARGET_SECONDS} s: {overhead:.2f} s vs python -c pass "
                  f"{python:.2f} s ({'met' if overhead < TARGET_SECONDS else 'NOT met'}; act {act:.2f} s wall, "
                  f"{library:.3f} s of it the act itself)")
