"""What the oracle has signed and submitted, per device, so that a reading is recorded once.

A reading is identified by its fingerprint (keccak256 of its canonical JSON: the same reading in any file). The
journal keeps the signed report, so a crash between signing and submitting resubmits the very same signed report
(same nonce) instead of signing a new one; the contract then records it once.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from chain_client.evaluations import MeasurementReport, SignedReport

SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    fingerprint BLOB NOT NULL,
    device TEXT NOT NULL,
    nonce INTEGER NOT NULL,
    report TEXT NOT NULL,      -- the signed MeasurementReport, JSON
    signature BLOB NOT NULL,
    submitted INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL,
    PRIMARY KEY (device, fingerprint)
);
"""


def _encode(report: MeasurementReport) -> str:
    d = report.__dict__.copy()
    d["battery_id"], d["evidence_hash"] = report.battery_id.hex(), report.evidence_hash.hex()
    return json.dumps(d)


def _decode(text: str) -> MeasurementReport:
    d = json.loads(text)
    d["battery_id"], d["evidence_hash"] = bytes.fromhex(d["battery_id"]), bytes.fromhex(d["evidence_hash"])
    return MeasurementReport(**d)


class Journal:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def lookup(self, device: str, fingerprint: bytes) -> tuple[SignedReport, bool] | None:
        row = self.db.execute("SELECT report, signature, submitted FROM reports WHERE device = ? AND fingerprint = ?",
                              (device, fingerprint)).fetchone()
        if row is None:
            return None
        return SignedReport(_decode(row[0]), bytes(row[1])), bool(row[2])

    def store(self, device: str, fingerprint: bytes, signed: SignedReport, source: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO reports (fingerprint, device, nonce, report, signature, submitted, source) "
            "VALUES (?, ?, ?, ?, ?, 0, ?)",
            (fingerprint, device, signed.report.nonce, _encode(signed.report), signed.signature, source))

    def replace_signed(self, device: str, signed: SignedReport) -> None:
        """Stores a re-signed report (a fresh deadline) in place of the one with the same nonce."""
        self.db.execute("UPDATE reports SET report = ?, signature = ? WHERE device = ? AND nonce = ?",
                        (_encode(signed.report), signed.signature, device, signed.report.nonce))

    def mark_submitted(self, device: str, nonces: list[int]) -> None:
        self.db.executemany("UPDATE reports SET submitted = 1 WHERE device = ? AND nonce = ?",
                            [(device, n) for n in nonces])

    def discard_unsubmitted(self, device: str) -> int:
        """Forgets every signed report not yet recorded (after the contract refused one): their nonces are unused
        on-chain and will be handed out again."""
        return self.db.execute("DELETE FROM reports WHERE device = ? AND submitted = 0", (device,)).rowcount

    def highest_nonce(self, device: str) -> int | None:
        row = self.db.execute("SELECT MAX(nonce) FROM reports WHERE device = ?", (device,)).fetchone()
        return None if row[0] is None else int(row[0])

    def mark_done_below(self, device: str, nonce: int) -> int:
        """Marks recorded every report with a nonce below ``nonce`` (the chain's: those nonces are used)."""
        return self.db.execute("UPDATE reports SET submitted = 1 WHERE device = ? AND nonce < ? AND submitted = 0",
                               (device, nonce)).rowcount

    def requeue_from(self, device: str, nonce: int) -> int:
        """Marks not recorded every report journaled as submitted with a nonce at or above ``nonce`` (the chain's):
        the node lost them (a restart from an older state), so they are sent again."""
        return self.db.execute("UPDATE reports SET submitted = 0 WHERE device = ? AND nonce >= ? AND submitted = 1",
                               (device, nonce)).rowcount

    def pending_by_fingerprint(self, device: str) -> list[tuple[bytes, SignedReport]]:
        rows = self.db.execute("SELECT fingerprint, report, signature FROM reports WHERE device = ? AND submitted = 0 "
                               "ORDER BY nonce", (device,))
        return [(bytes(r[0]), SignedReport(_decode(r[1]), bytes(r[2]))) for r in rows]

    def update_signed(self, device: str, fingerprint: bytes, signed: SignedReport) -> None:
        """Stores a re-signed report (another nonce, a fresh deadline) for the same reading."""
        self.db.execute("UPDATE reports SET nonce = ?, report = ?, signature = ? WHERE device = ? AND fingerprint = ?",
                        (signed.report.nonce, _encode(signed.report), signed.signature, device, fingerprint))

    def pending(self, device: str) -> list[SignedReport]:
        rows = self.db.execute("SELECT report, signature FROM reports WHERE device = ? AND submitted = 0 "
                               "ORDER BY nonce", (device,))
        return [SignedReport(_decode(r[0]), bytes(r[1])) for r in rows]
