"""Gas of evaluation reports recorded in batches of 100 (device-signed EIP-712 reports, each recovered and graded
on-chain), beside an Ethereum Attestation Service ``attest`` of 32 B deployed and measured in the same run
(issue 15's target: at most half an EAS attest per report)."""

from __future__ import annotations

from rich.console import Console

from bench.gas import anchors
from bench.oracles import fleet
from bench.passports import target_line
from chain_client.backends import Backend, EmbeddedBackend
from chain_client.evaluations import MeasurementReport, sign_report
from chain_client.transactions import TxSender

BATCH = 100
#: Issue 15: an evaluation report in batches of 100 costs at most this share of an EAS attest (32 B).
TARGET = 0.5


def batch_gas(backend: Backend, batches: int = 2) -> list[float]:
    """Gas per report of ``batches`` batches of :data:`BATCH` reports, each of a battery not evaluated before, then
    of the same batteries evaluated again (a later measurement replaces the recorded one); last, the gas of one
    report submitted alone (``submitReport``, a battery not evaluated before)."""
    ledger, sender, a, ids = fleet(backend, BATCH + 1)
    ev = ledger.evaluations
    now = int(backend.w3.eth.get_block("latest")["timestamp"])
    nonce = ev.nonce(a["device"].address)
    per_report = []
    for b in range(batches):
        signed = []
        for i in range(BATCH):
            report = MeasurementReport(ids[i], 8_000 - b, 60_000, 1_000, 900 + b, 0, now - 1_000 + b, b"\x01" * 32,
                                       nonce, now + 86_400)
            signed.append(sign_report(a["device"], report, sender.chain_id, ev.address))
            nonce += 1
        per_report.append(ev.submit_reports(a["relayer"], signed)["gasUsed"] / BATCH)
    alone = MeasurementReport(ids[BATCH], 8_000, 60_000, 1_000, 900, 0, now - 1_000, b"\x01" * 32, nonce, now + 86_400)
    per_report.append(ev.submit_report(a["relayer"], sign_report(a["device"], alone, sender.chain_id, ev.address))
                      ["gasUsed"])
    return per_report


def run(console: Console, backend: Backend | None = None) -> None:
    backend = backend or EmbeddedBackend()
    eas32 = anchors(backend.w3, TxSender(backend.w3), backend.funded_accounts(10)[9])["eas32"].gas
    first, again, alone = batch_gas(backend)
    console.print(f"evaluation reports in batches of {BATCH} on {backend.name}: {first:,.0f} gas per report (first "
                  f"evaluation of each battery), {again:,.0f} (a later evaluation replacing it); one report alone "
                  f"(submitReport) {alone:,.0f}; EAS attest 32 B {eas32:,} gas")
    console.print(target_line(f"evaluation report in batches of {BATCH}", first, eas32, "EAS attest (32 B)", TARGET))
