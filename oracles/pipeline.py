"""One file through the oracle: read and validate, sign new readings, submit in batches."""

from __future__ import annotations

from pathlib import Path

from chain_client.errors import ContractRevert, LedgerError
from chain_client.evaluations import SignedReport
from oracles.readers import read_measurements
from oracles.reconcile import reconcile_journal
from oracles.signer import ReportSigner
from oracles.submitter import BatchSubmitter, SubmitReport


def process_file(path: Path, signer: ReportSigner, submitter: BatchSubmitter) -> SubmitReport:
    """Nothing of a file with a bad line is signed or sent. Readings submitted before are skipped; reports signed
    before but never submitted (a crash) go first, with their original nonces."""
    measurements = read_measurements(path)
    reconcile_journal(signer)  # the node may have lost reports since the journal was written (see oracles.reconcile)
    report = SubmitReport()
    # reports signed in an earlier run but never recorded: same nonces, fresh deadlines if theirs passed
    pending = {s.report.nonce: signer.refresh(s) for s in signer.journal.pending(signer.device.address)}
    for m in measurements:
        signed, new = signer.sign(m)
        if signed is None:
            report.already_recorded += 1
            continue
        if new:
            pending[signed.report.nonce] = signed
            report.signed += 1
    fresh = list(pending.values())
    try:
        submitter.submit(fresh, report)
    except ContractRevert as exc:
        # Reports after the refused one can never be recorded with their nonces: forget them all, so the device's
        # next reports continue from the chain's nonce; batches recorded before stay recorded.
        signer.journal.discard_unsubmitted(signer.device.address)
        signer.resync()
        culprit = _culprit(exc, fresh)
        raise LedgerError(f"{path}: the contract refused a batch{culprit}: {exc}; "
                          f"{report.recorded} reports were recorded before it, none after") from None
    return report


def _culprit(exc: ContractRevert, reports: list[SignedReport]) -> str:
    battery = exc.args_by_name.get("batteryId")
    if isinstance(battery, bytes):
        for s in reports:
            if s.report.battery_id == battery:
                return f" (battery 0x{battery.hex()[:12]}…)"
    return ""
