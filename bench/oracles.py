"""Evaluation reports: gas per report (single, and batched per 100), and the oracle's throughput (reports signed
per second, reports submitted per second) on the embedded chain and on anvil."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.gas import REPEATS
from chain_client.anvil import AnvilNode
from chain_client.backends import Backend, EmbeddedBackend, RpcBackend
from chain_client.evaluations import MeasurementReport, sign_report
from chain_client.merkle import MerkleTree
from chain_client.passports import ModelSpec, battery_id
from chain_client.suite import Ledger, deploy
from chain_client.transactions import TxSender
from chain_client.vocabulary import BatteryCategory, BusinessRole, Material
from oracles.journal import Journal
from oracles.readers import Measurement
from oracles.signer import ReportSigner
from oracles.submitter import BatchSubmitter, SubmitReport


def fleet(backend: Backend, count: int) -> tuple[Ledger, TxSender, dict, list[bytes]]:
    names = ("gov", "moe", "motie", "molit", "maker", "ev", "evaluator", "device", "relayer")
    a = dict(zip(names, backend.funded_accounts(len(names)), strict=True))
    sender = TxSender(backend.w3)
    ledger = Ledger(backend.w3, deploy(backend.w3, sender, a["gov"], {
        "moe": a["moe"].address, "motie": a["motie"].address, "molit": a["molit"].address}), sender)
    ledger.registry.register(a["motie"], a["maker"].address, [BusinessRole.CELL_MAKER])
    ledger.registry.register(a["molit"], a["ev"].address, [BusinessRole.EV_MAKER])
    ledger.registry.register(a["molit"], a["evaluator"].address, [BusinessRole.EVALUATOR])
    ledger.evaluations.register_device(a["evaluator"], a["device"])
    ledger.passports.assign_prefix(a["motie"], "KR:BENCH", a["maker"].address)
    model = ledger.passports.register_model(a["maker"], "KR:BENCH:MODEL", ModelSpec(
        BatteryCategory.EV, frozenset({Material.LITHIUM}), 60_000))
    serials = [f"KR:BENCH:{i:06d}" for i in range(count)]
    ids = [battery_id(n) for n in serials]
    tree = MerkleTree(ids)
    batch_id = ledger.passports.anchor_batch(a["maker"], model, tree.root, count)
    p = ledger.passports
    for name, bid in zip(serials, ids, strict=True):  # in service: the EV maker takes custody and links the vehicle
        p.materialize(a["relayer"], batch_id, name, tree.proof(bid))
        p.transfer(a["maker"], bid, a["ev"].address)
        p.put_in_service(a["ev"], bid, bid)
    return ledger, sender, a, ids


def measurements(ids: list[bytes], start: int) -> list[Measurement]:
    return [Measurement(f"bench:{i}", f"KR:BENCH:{i:06d}", 7_500 + i % 2_000, 60_000, 1_000, 800 + i, 0,
                        start + i, f'{{"n":{start + i}}}') for i in range(len(ids))]


def run_backend(backend: Backend, console: Console, count: int) -> dict[str, float]:
    ledger, sender, a, ids = fleet(backend, count)
    ev = ledger.evaluations
    now = int(backend.w3.eth.get_block("latest")["timestamp"])

    def signed(i: int, nonce: int) -> object:
        return sign_report(a["device"], MeasurementReport(ids[i], 8_000, 60_000, 1_000, 900, 0, now - 100 - nonce,
                                                          b"\x01" * 32, nonce, now + 86_400), sender.chain_id,
                           ev.address)

    single = statistics.median(ev.submit_report(a["relayer"], signed(i, i))["gasUsed"]  # type: ignore[arg-type]
                               for i in range(REPEATS))
    batch = [signed(REPEATS + i, REPEATS + i) for i in range(100)]
    batched = ev.submit_reports(a["relayer"], batch)["gasUsed"] / 100  # type: ignore[arg-type]

    figures = {"single": single, "batched": batched}
    with tempfile.TemporaryDirectory() as tmp:
        journal = Journal(Path(tmp) / "oracle.sqlite")
        signer = ReportSigner(a["device"], ev, sender.chain_id, journal)
        submitter = BatchSubmitter(ev, a["relayer"], journal, a["device"].address, 100)
        sign_rates, submit_rates = [], []
        for r in range(3):
            readings = measurements(ids, now - 50_000 * (r + 1))
            start = time.perf_counter()
            reports = [signer.sign(m)[0] for m in readings]
            sign_rates.append(len(readings) / (time.perf_counter() - start))
            start = time.perf_counter()
            result = SubmitReport()
            submitter.submit([s for s in reports if s is not None], result)
            submit_rates.append(result.recorded / (time.perf_counter() - start))
        figures["signed_per_s"] = statistics.median(sign_rates)
        figures["submitted_per_s"] = statistics.median(submit_rates)
        journal.close()
    return figures


def run(console: Console, count: int = 300) -> None:
    results = {"embedded": run_backend(EmbeddedBackend(), console, count)}
    with AnvilNode() as node:
        results["anvil"] = run_backend(RpcBackend(node.url), console, count)
    table = Table(title=f"Evaluation reports (gas median of {REPEATS}; rates median of 3 runs of {count:,} readings)")
    for col in ("", "embedded", "anvil"):
        table.add_column(col, justify="right")
    table.add_row("gas per report, single submitReport", *(f"{results[b]['single']:,.0f}" for b in results))
    table.add_row("gas per report, batches of 100", *(f"{results[b]['batched']:,.0f}" for b in results))
    table.add_row("oracle: readings signed / s (EIP-712, journaled)",
                  *(f"{results[b]['signed_per_s']:,.0f}" for b in results))
    table.add_row("oracle: reports submitted and recorded / s (batches of 100)",
                  *(f"{results[b]['submitted_per_s']:,.0f}" for b in results))
    console.print(table)
    e = results["embedded"]
    console.print(f"batching saves {1 - e['batched'] / e['single']:.0%} gas per report "
                  f"({e['batched']:,.0f} vs {e['single']:,.0f}); vs EAS attestByDelegation anchor 305,741 (DESIGN.md): "
                  f"{e['single'] / 305_741:.2f}")
