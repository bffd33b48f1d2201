"""Signing readings as EIP-712 measurement reports with the device key, one nonce after another."""

from __future__ import annotations

import time
from dataclasses import replace

from eth_account.signers.local import LocalAccount

from chain_client.evaluations import Evaluations, MeasurementReport, SignedReport, sign_report
from chain_client.merkle import keccak
from chain_client.passports import battery_id
from oracles.journal import Journal
from oracles.readers import Measurement


def fingerprint(m: Measurement) -> bytes:
    return keccak(m.raw.encode())


class ReportSigner:
    """Signs readings for one device. Nonces continue from the chain's and the journal's, whichever is higher."""

    def __init__(self, device: LocalAccount, evaluations: Evaluations, chain_id: int, journal: Journal,
                 ttl_seconds: int = 3_600) -> None:
        self.device = device
        self.evaluations = evaluations
        self.chain_id = chain_id
        self.journal = journal
        self.ttl_seconds = ttl_seconds
        self._chain_time_value, self._chain_time_at = 0, float("-inf")
        self.resync()

    def resync(self) -> None:
        """Continues after the chain's nonce or the last journaled one, whichever is higher."""
        on_chain = self.evaluations.nonce(self.device.address)
        journaled = self.journal.highest_nonce(self.device.address)
        self._next = max(on_chain, (journaled + 1) if journaled is not None else 0)

    def _chain_time(self, fresh: bool = False) -> int:
        """The latest block's time, asked of the node at most every few seconds (not once per reading) unless
        ``fresh``."""
        now = time.monotonic()
        if fresh or now - self._chain_time_at > 5.0:
            self._chain_time_value = int(self.evaluations.contract.w3.eth.get_block("latest")["timestamp"])
            self._chain_time_at = now
        return self._chain_time_value

    def _deadline(self) -> int:
        return max(int(time.time()), self._chain_time()) + self.ttl_seconds

    def sign(self, m: Measurement) -> tuple[SignedReport | None, bool]:
        """(signed report, whether it was signed now). The report is None if this reading was submitted before; a
        reading signed before but not submitted comes back as journaled, with its nonce (see :meth:`refresh`)."""
        fp = fingerprint(m)
        known = self.journal.lookup(self.device.address, fp)
        if known is not None:
            signed, submitted = known
            return (None, False) if submitted else (signed, False)
        report = MeasurementReport(battery_id(m.identifier), m.state_of_health_bps, m.remaining_capacity_wh,
                                   m.resistance_increase_bps, m.cycle_count, m.fault_flags, m.measured_at,
                                   keccak(m.raw.encode()), self._next, self._deadline())
        self._next += 1
        signed = sign_report(self.device, report, self.chain_id, self.evaluations.address)
        self.journal.store(self.device.address, fp, signed, m.source)
        return signed, True

    def resign(self, report: MeasurementReport) -> SignedReport:
        """``report`` signed again with a fresh deadline (its nonce as given)."""
        return sign_report(self.device, replace(report, deadline=self._deadline()), self.chain_id,
                           self.evaluations.address)

    def refresh(self, signed: SignedReport) -> SignedReport:
        """The same report with a fresh deadline if it expired (same nonce, so the order stays intact)."""
        if signed.report.deadline > self._chain_time(fresh=True) + 60:
            return signed
        renewed = sign_report(self.device, replace(signed.report, deadline=self._deadline()), self.chain_id,
                              self.evaluations.address)
        self.journal.replace_signed(self.device.address, renewed)
        return renewed
