"""Submitting signed reports in batches through a relayer, retrying transient failures."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from eth_account.signers.local import LocalAccount
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import Timeout
from web3.exceptions import TimeExhausted

from chain_client.errors import ContractRevert
from chain_client.evaluations import Evaluations, SignedReport
from oracles.journal import Journal

#: Failures worth another try: the node did not answer, or the receipt did not come in time. The batch is
#: idempotent (recorded reports are skipped), so a retry after a transaction that did go through is harmless.
TRANSIENT = (RequestsConnectionError, Timeout, TimeExhausted, ConnectionError, TimeoutError)


@dataclass
class SubmitReport:
    signed: int = 0
    recorded: int = 0
    already_recorded: int = 0
    batches: int = 0
    retries: int = 0
    digests: list[bytes] = field(default_factory=list)


class BatchSubmitter:
    def __init__(self, evaluations: Evaluations, relayer: LocalAccount, journal: Journal, device: str,
                 batch_size: int = 100, attempts: int = 4, backoff_seconds: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if batch_size < 1:
            raise ValueError("batch size must be at least 1")
        self.evaluations = evaluations
        self.relayer = relayer
        self.journal = journal
        self.device = device
        self.batch_size = batch_size
        self.attempts = attempts
        self.backoff_seconds = backoff_seconds
        self.sleep = sleep

    def submit(self, signed: Sequence[SignedReport], report: SubmitReport) -> None:
        ordered = sorted(signed, key=lambda s: s.report.nonce)
        for start in range(0, len(ordered), self.batch_size):
            self._send(ordered[start:start + self.batch_size], report)

    def _send(self, batch: list[SignedReport], report: SubmitReport) -> None:
        for attempt in range(1, self.attempts + 1):
            try:
                receipt = self.evaluations.submit_reports(self.relayer, batch)
                break
            except ContractRevert:
                raise  # the contract refused: retrying cannot help
            except TRANSIENT:
                if attempt == self.attempts:
                    raise
                report.retries += 1
                self.sleep(self.backoff_seconds * 2 ** (attempt - 1))
        recorded = self.evaluations.recorded_in(receipt)
        report.batches += 1
        report.recorded += len(recorded)
        report.already_recorded += len(batch) - len(recorded)
        report.digests.extend(recorded)
        self.journal.mark_submitted(self.device, [s.report.nonce for s in batch])
