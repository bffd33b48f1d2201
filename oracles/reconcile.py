"""The oracle's journal against the chain, on every start and with ``bledger oracle reconcile``.

The contract takes a device's reports in nonce order, so the device's nonce on chain, N, says exactly which
nonces are used. A report journaled as not yet recorded with a nonce below N is marked done (the chain has its
nonce); a report journaled as recorded with a nonce of N or more was lost by the node (a restart from an older
state) and is queued again; if the queued reports do not continue exactly at N (a gap), they are re-signed with
N, N+1, ... in their order, so the device is never stuck on ``InvalidAccountNonce``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from oracles.signer import ReportSigner


@dataclass
class JournalReconcileReport:
    device: str
    chain_nonce: int
    marked_done: int = 0
    requeued: int = 0
    resigned: int = 0
    pending: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.marked_done or self.requeued or self.resigned)

    def lines(self) -> list[str]:
        out = [f"device {self.device}: next nonce on chain {self.chain_nonce}, {self.pending} reports waiting to be "
               "recorded"]
        if self.marked_done:
            out.append(f"{self.marked_done} reports the chain has (their nonces are used) marked recorded")
        if self.requeued:
            out.append(f"{self.requeued} reports journaled as recorded are not on chain (the node lost them): "
                       "queued again")
        if self.resigned:
            out.append(f"{self.resigned} queued reports re-signed with nonces from {self.chain_nonce} on")
        if not self.changed:
            out.append("the journal agrees with the chain: nothing to fix")
        return out


def reconcile_journal(signer: ReportSigner) -> JournalReconcileReport:
    """Brings the journal of ``signer``'s device in line with the chain (see the module's docstring)."""
    device, journal = signer.device.address, signer.journal
    chain_nonce = signer.evaluations.nonce(device)
    report = JournalReconcileReport(device, chain_nonce)
    report.marked_done = journal.mark_done_below(device, chain_nonce)
    report.requeued = journal.requeue_from(device, chain_nonce)
    pending = journal.pending_by_fingerprint(device)
    if [s.report.nonce for _, s in pending] != list(range(chain_nonce, chain_nonce + len(pending))):
        for offset, (fingerprint, signed) in enumerate(pending):
            renewed = signer.resign(replace(signed.report, nonce=chain_nonce + offset))
            journal.update_signed(device, fingerprint, renewed)
            report.resigned += 1
    report.pending = len(pending)
    signer.resync()
    return report
