"""The battery index against the chain: reconcile it (on every import, and ``bledger battery reconcile``) and
rebuild it from the batch files and the chain's events (``bledger battery index rebuild``).

A node can lose its last blocks (a crash and a restart from an older state snapshot); then batches the index
lists are not on chain any more, and their ids may now belong to other roots. Reconciling re-anchors such a batch
from its batch file (the very same root and data hash, under the fresh id the chain gives) and corrects the index,
so an id is never taken for another root and no battery is missing. Batches the chain has and the index lacks (a
crash after the transaction was mined) are adopted from their batch file.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3

from chain_client.battery_index import BatteryIndex, IndexedBatch
from chain_client.errors import LedgerError
from chain_client.merkle import MerkleTree, keccak
from chain_client.passports import Passports
from chain_client.vocabulary import BatteryStatus, identifier

#: The origin recorded for a batch the chain has but whose batch file is missing (its batteries are not indexed).
FILE_MISSING = "on chain, batch file missing"


def batch_file(batch_dir: Path, root: bytes) -> Path:
    return batch_dir / f"batch-{root.hex()}.txt"


def sidecar_file(batch_dir: Path, root: bytes) -> Path:
    """Where the import noted the batch's model and source lines (a hint for rebuilding; not bound by hash)."""
    return batch_dir / f"batch-{root.hex()}.json"


def write_sidecar(batch_dir: Path, batch: IndexedBatch, records: list[tuple[bytes, str]] | None = None) -> None:
    """Notes the batch's model, source lines and the batteries' passport records (kept only off-chain: a rebuilt
    index gets them back from here)."""
    sidecar_file(batch_dir, batch.root).write_text(json.dumps(
        {"model": batch.model, "count": batch.count, "source": batch.source, "firstLine": batch.first_line,
         "lastLine": batch.last_line, "records": {i.hex(): r for i, r in records or []}}))


@dataclass
class ReconcileReport:
    checked: int = 0
    confirmed: int = 0
    corrected: list[tuple[int, int]] = field(default_factory=list)  # (id in the index, id on chain)
    reanchored: list[tuple[int, int, int]] = field(default_factory=list)  # (old id, new id, batteries)
    adopted: list[tuple[int, int]] = field(default_factory=list)  # (id on chain, batteries)
    lost: list[tuple[int, Path]] = field(default_factory=list)  # not on chain, and no batch file to re-anchor it
    unknown: list[tuple[int, bytes]] = field(default_factory=list)  # on chain, not indexed, no batch file
    singles_checked: int = 0
    singles_missing: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.corrected or self.reanchored or self.adopted or self.singles_missing)

    def lines(self) -> list[str]:
        out = [f"{self.checked} indexed batches checked against the chain: {self.confirmed} confirmed"]
        for old, new in self.corrected:
            out.append(f"batch #{old} is on chain as #{new}: index corrected")
        for old, new, count in self.reanchored:
            out.append(f"batch #{old} ({count:,} batteries) was not on chain: re-anchored as #{new}")
        for new, count in self.adopted:
            out.append(f"batch #{new} ({count:,} batteries) was on chain but not indexed: added from its batch file")
        for old, path in self.lost:
            out.append(f"batch #{old} is not on chain and its batch file {path} is missing: its batteries are lost")
        for batch_id, root in self.unknown:
            out.append(f"batch #{batch_id} (root 0x{root.hex()[:16]}…) is on chain but neither indexed nor in a "
                       "batch file")
        if self.singles_checked:
            out.append(f"{self.singles_checked} batteries registered on their own checked: "
                       f"{len(self.singles_missing)} missing on chain")
        for ident in self.singles_missing:
            out.append(f"{ident} is not on chain: removed from the index, register it again")
        return out


def _read_batch(path: Path, root: bytes) -> tuple[bytes, list[str]] | None:
    """The batch file's bytes and identifiers if it exists and its tree has ``root``."""
    if not path.is_file():
        return None
    content = path.read_bytes()
    identifiers = content.decode().splitlines()
    if MerkleTree(keccak(i.encode()) for i in identifiers).root != root:
        return None
    return content, identifiers


def _adopt(index: BatteryIndex, batch_dir: Path, batch_id: int, root: bytes, passports: Passports,
           models: dict[bytes, str], origin: str) -> int | None:
    """Indexes an on-chain batch from its batch file; returns its size, or None without a usable file."""
    path = batch_file(batch_dir, root)
    found = _read_batch(path, root)
    if found is None:
        return None
    content, identifiers = found
    hint: dict[str, object] = {}
    if sidecar_file(batch_dir, root).is_file():
        try:
            hint = json.loads(sidecar_file(batch_dir, root).read_text())
        except ValueError:
            hint = {}
    model = str(hint.get("model") or _model_name(passports, batch_id, models))
    source = str(hint.get("source") or f"rebuilt from {path.name}")
    first, last = int(str(hint.get("firstLine", 0))), int(str(hint.get("lastLine", 0)))
    with index.transaction():
        index.add_batteries((keccak(i.encode()), i, root, f"{Path(source).name}:{first + n}" if first else "rebuilt")
                            for n, i in enumerate(identifiers))
        index.add_batch(IndexedBatch(root, batch_id, model, len(identifiers), source, first, last, path), origin)
        records = hint.get("records")
        if isinstance(records, dict):
            index.add_records((bytes.fromhex(i), str(r)) for i, r in records.items())
    return len(identifiers)


def _model_name(passports: Passports, batch_id: int, models: dict[bytes, str]) -> str:
    model_id = passports.batch(batch_id).model_id
    return models.get(model_id, "0x" + model_id.hex())


def published_models(models_dir: Path) -> dict[bytes, str]:
    """Model id -> model name of the data sheets ``bledger battery model`` published in ``models_dir``."""
    names: dict[bytes, str] = {}
    if models_dir.is_dir():
        for sheet in models_dir.glob("*.json"):
            try:
                names[bytes.fromhex(sheet.stem)] = str(json.loads(sheet.read_text())["batteryModel"])
            except (ValueError, KeyError, TypeError, OSError):
                continue
    return names


def reconcile(index: BatteryIndex, passports: Passports, manufacturer: LocalAccount, batch_dir: Path,
              models: dict[bytes, str] | None = None, check_singles: bool = True) -> ReconcileReport:
    """Brings the index in line with the chain (see the module's docstring); sends a transaction only to
    re-anchor a batch the chain lost. ``check_singles`` also checks each battery registered on its own (one call
    each: ``bledger battery reconcile`` does, an import does not)."""
    report = ReconcileReport()
    on_chain = passports.batches_anchored_by(manufacturer.address)
    indexed_roots: set[bytes] = set()
    for batch, origin in index.batches():
        indexed_roots.add(batch.root)
        report.checked += 1
        chain_id = on_chain.get(batch.root)
        if chain_id == batch.batch_id:
            report.confirmed += 1
        elif chain_id is not None:
            index.set_batch_id(batch.root, chain_id, "id corrected")
            report.corrected.append((batch.batch_id, chain_id))
        elif origin == FILE_MISSING or not batch.data_file.is_file():
            report.lost.append((batch.batch_id, batch.data_file))
        else:
            found = _read_batch(batch.data_file, batch.root)
            if found is None:
                raise LedgerError(f"batch file {batch.data_file} does not match its root 0x{batch.root.hex()}")
            content, identifiers = found
            new_id = passports.anchor_batch(manufacturer, identifier(batch.model), batch.root, len(identifiers),
                                            keccak(content))
            index.set_batch_id(batch.root, new_id, "re-anchored")
            report.reanchored.append((batch.batch_id, new_id, len(identifiers)))
    if index.batches() or not on_chain:  # an empty index with batches on chain is refused by the caller instead
        names = models if models is not None else {}
        for root, chain_id in sorted(on_chain.items(), key=lambda kv: kv[1]):
            if root in indexed_roots:
                continue
            count = _adopt(index, batch_dir, chain_id, root, passports, names, "found on-chain")
            if count is None:
                report.unknown.append((chain_id, root))
            else:
                report.adopted.append((chain_id, count))
    for battery, ident in index.singles() if check_singles else []:
        report.singles_checked += 1
        if passports.battery(battery).status == BatteryStatus.NONE:
            index.remove_battery(battery)
            report.singles_missing.append(ident)
    return report


def require_usable_index(index: BatteryIndex, passports: Passports, manufacturer: str) -> None:
    """Refuses to import into an empty index while ``manufacturer`` has batches on chain (the import could not
    see which batteries are registered and would anchor them again)."""
    if index.batches():
        return
    on_chain = passports.batches_anchored_by(manufacturer)
    if on_chain:
        raise LedgerError(f"the battery index {index.path} is empty but {Web3.to_checksum_address(manufacturer)} has "
                          f"{len(on_chain)} batches on chain: rebuild it first with "
                          f"`bledger battery index rebuild --data {index.path.parent}`")


@dataclass
class RebuildReport:
    batches: int = 0
    batteries: int = 0
    singles: int = 0
    missing_files: list[tuple[int, Path]] = field(default_factory=list)
    previous: Path | None = None

    def lines(self) -> list[str]:
        out = [f"index rebuilt: {self.batches} batches, {self.batteries:,} batteries from batch files, "
               f"{self.singles} batteries registered on their own"]
        if self.previous is not None:
            out.append(f"the previous index was kept as {self.previous}")
        for batch_id, path in self.missing_files:
            out.append(f"batch #{batch_id}: batch file {path} is missing (its batteries cannot be proven or checked "
                       "for duplicates)")
        return out


def rebuild_index(index_path: Path, passports: Passports, manufacturer: str, batch_dir: Path,
                  models_dir: Path) -> RebuildReport:
    """A fresh index from the chain's ``BatchAnchored`` / ``BatteryRegistered`` events of ``manufacturer`` and the
    batch files (each checked against its root). The previous file, damaged or not, is kept beside it."""
    report = RebuildReport()
    if index_path.exists():
        report.previous = index_path.with_name(f"{index_path.name}.old-{time.strftime('%Y%m%dT%H%M%S')}")
        os.replace(index_path, report.previous)
    for suffix in ("-wal", "-shm"):
        stale = index_path.with_name(index_path.name + suffix)
        if stale.exists():
            stale.unlink()
    maker = Web3.to_checksum_address(manufacturer)
    names = published_models(models_dir)
    index = BatteryIndex(index_path)
    try:
        for root, batch_id in sorted(passports.batches_anchored_by(maker).items(), key=lambda kv: kv[1]):
            count = _adopt(index, batch_dir, batch_id, root, passports, names, "rebuilt")
            if count is None:
                on_chain = passports.batch(batch_id)
                path = batch_file(batch_dir, root)
                index.add_batch(IndexedBatch(root, batch_id, names.get(on_chain.model_id, "0x" +
                                                                       on_chain.model_id.hex()),
                                             on_chain.count, "", 0, 0, path), FILE_MISSING)
                report.missing_files.append((batch_id, path))
            else:
                report.batches += 1
                report.batteries += count
        logs = passports.contract.events.BatteryRegistered().get_logs(
            from_block=0, argument_filters={"manufacturer": maker})
        singles = [bytes(e["args"]["batteryId"]) for e in logs if int(e["args"]["batchId"]) == 0]
        with index.transaction():
            index.db.executemany("INSERT OR IGNORE INTO batteries (id, identifier, batch_root, source) "
                                 "VALUES (?, '', NULL, 'single (rebuilt)')", [(s,) for s in singles])
        report.singles = len(singles)
    finally:
        index.close()
    return report
