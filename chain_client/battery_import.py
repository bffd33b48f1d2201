"""Bulk registration: a CSV / JSON Lines file of batteries becomes Merkle-anchored batches on-chain.

Each batch (consecutive rows of one model, ``batch_size`` at most) is validated whole before anything is sent: a
malformed line or a duplicate identifier stops the import with file and line, and nothing of that batch is anchored
or indexed. Anchored batches are journaled in the :class:`BatteryIndex`; running the same import again skips them,
and a batch whose transaction went through just before an interruption is recognised on-chain by its root and not
anchored twice. Every run first reconciles the index with the chain (:mod:`chain_client.battery_reconcile`): a
batch the node lost is re-anchored under a fresh id, and an empty index is refused while the manufacturer has
batches on chain.
"""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import groupby, repeat
from pathlib import Path

from eth_account.signers.local import LocalAccount

from chain_client.battery_files import BatteryRow, FileFormatError, read_rows
from chain_client.battery_index import BatteryIndex, IndexedBatch, damage_reported
from chain_client.battery_reconcile import ReconcileReport, reconcile, require_usable_index, write_sidecar
from chain_client.errors import LedgerError
from chain_client.merkle import MerkleTree, keccak, keccak_many
from chain_client.passport_documents import parse_record
from chain_client.passports import Passports
from chain_client.vocabulary import identifier

DEFAULT_BATCH_SIZE = 10_000


class DuplicateBattery(LedgerError):
    """An identifier that is already registered, or repeated in the file."""


@dataclass
class ImportReport:
    batches: int = 0
    batteries: int = 0
    skipped_lines: int = 0
    resumed_batches: int = 0
    batch_ids: list[int] = field(default_factory=list)
    reconciled: ReconcileReport | None = None


def _batches(rows: Iterator[BatteryRow], size: int) -> Iterator[list[BatteryRow]]:
    """Consecutive rows of one model, at most ``size`` per batch."""
    for _, same_model in groupby(rows, key=lambda r: r.model):
        chunk: list[BatteryRow] = []
        for row in same_model:
            chunk.append(row)
            if len(chunk) == size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def batch_file_bytes(identifiers: list[str]) -> bytes:
    """The off-chain batch file: one identifier a line, in input order. Its keccak256 is anchored with the root."""
    return ("\n".join(identifiers) + "\n").encode()


def tree_of_file(path: Path) -> tuple[MerkleTree, list[str]]:
    identifiers = path.read_text().splitlines()
    return MerkleTree(keccak(i.encode()) for i in identifiers), identifiers


def import_file(
    path: Path,
    passports: Passports,
    manufacturer: LocalAccount,
    index: BatteryIndex,
    data_dir: Path,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Imports ``path``; ``progress`` is called with the number of lines done after each batch."""
    if batch_size < 1:
        raise ValueError("batch size must be at least 1")
    data_dir.mkdir(parents=True, exist_ok=True)
    # the import makes millions of short-lived tuples (rows, leaves), and each burst of them set off a cyclic
    # garbage collection that walked every live container again (the ids staged so far, the tree): a cost growing
    # with the import (3M batteries: 54 s with it, 36 s without). Reference counting frees what the import makes.
    collecting = gc.isenabled()
    gc.disable()
    try:
        with damage_reported(index.path):
            return _import(path, passports, manufacturer, index, data_dir, batch_size, progress)
    finally:
        if collecting:
            gc.enable()


def _import(path: Path, passports: Passports, manufacturer: LocalAccount, index: BatteryIndex, data_dir: Path,
            batch_size: int, progress: Callable[[int], None] | None) -> ImportReport:
    index.merge_staged()  # what an interrupted import staged
    try:
        return _import_batches(path, passports, manufacturer, index, data_dir, batch_size, progress)
    finally:
        index.merge_staged()


def _import_batches(path: Path, passports: Passports, manufacturer: LocalAccount, index: BatteryIndex,
                    data_dir: Path, batch_size: int, progress: Callable[[int], None] | None) -> ImportReport:
    require_usable_index(index, passports, manufacturer.address)
    reconciled = reconcile(index, passports, manufacturer, data_dir, check_singles=False)
    if reconciled.unknown:
        raise LedgerError("; ".join(reconciled.lines()[1:]) + f": rebuild the index with `bledger battery index "
                          f"rebuild --data {index.path.parent}` before importing")
    source = str(path.resolve())
    name = path.name
    done_until = index.last_imported_line(source)
    report = ImportReport(reconciled=reconciled)
    on_chain: dict[bytes, int] | None = None
    model_ids: dict[str, bytes] = {}
    staged: set[bytes] = set()  # ids this run staged (the staged table has no index to ask)
    rows = (r for r in read_rows(path) if r.line > done_until)
    if done_until and progress:
        progress(done_until)
    for chunk in _batches(rows, batch_size):
        ids = keccak_many([r.identifier.encode() for r in chunk])
        _check_repeats(path, chunk, ids)
        if not staged.isdisjoint(ids) or index.find_merged(ids):  # registered before: nothing of it is anchored
            raise _already_registered(path, chunk, ids, index)
        model_id = model_ids.get(chunk[0].model)
        if model_id is None:
            model_id = model_ids[chunk[0].model] = identifier(chunk[0].model)
            if passports.model(model_id).manufacturer != manufacturer.address:
                raise FileFormatError(path, chunk[0].line, f"model {chunk[0].model!r} is not registered on-chain by "
                                                           f"{manufacturer.address}: run `bledger battery model` first")
        records = _records(path, chunk, ids)
        tree = MerkleTree(ids)
        content = batch_file_bytes([r.identifier for r in chunk])
        data_file = data_dir / f"batch-{tree.root.hex()}.txt"
        data_file.write_bytes(content)
        indexed = IndexedBatch(tree.root, 0, chunk[0].model, len(chunk), source, chunk[0].line, chunk[-1].line,
                               data_file)
        write_sidecar(data_dir, indexed, records)
        try:
            with index.transaction():
                index.stage_batteries(zip(ids, [r.identifier for r in chunk], repeat(tree.root, len(chunk)),
                                          [f"{name}:{r.line}" for r in chunk], strict=True))
                index.add_records(records)
                if on_chain is None:
                    on_chain = passports.batches_anchored_by(manufacturer.address)
                batch_id = on_chain.get(tree.root)
                origin = "found on-chain"
                if batch_id is None:
                    batch_id = passports.anchor_batch(manufacturer, model_id, tree.root, len(chunk), keccak(content))
                    origin = "anchored"
                else:
                    report.resumed_batches += 1
                index.add_batch(IndexedBatch(tree.root, batch_id, chunk[0].model, len(chunk), source, chunk[0].line,
                                             chunk[-1].line, data_file), origin)
        except sqlite3.IntegrityError:  # the index's primary key: an id registered before (rolled back by now)
            raise _already_registered(path, chunk, ids, index) from None
        staged.update(ids)
        report.batches += 1
        report.batteries += len(chunk)
        report.batch_ids.append(batch_id)
        if progress:
            progress(chunk[-1].line)
    report.skipped_lines = done_until
    return report


def _records(path: Path, chunk: list[BatteryRow], ids: list[bytes]) -> list[tuple[bytes, str]]:
    """The passport records of a batch (validated before anything is sent), canonical JSON by battery id."""
    return [(i, parse_record(r.record, f"{path}:{r.line}").canonical().decode())
            for i, r in zip(ids, chunk, strict=True) if r.record is not None]


def _check_repeats(path: Path, chunk: list[BatteryRow], ids: list[bytes]) -> None:
    seen: dict[bytes, int] = {}
    for battery_id, row in zip(ids, chunk, strict=True):
        if battery_id in seen:
            raise DuplicateBattery(f"{path}:{row.line}: {row.identifier} repeats line {seen[battery_id]}")
        seen[battery_id] = row.line


def _already_registered(path: Path, chunk: list[BatteryRow], ids: list[bytes], index: BatteryIndex) -> DuplicateBattery:
    """The error for a batch whose insert hit the index's primary key: names the first such line."""
    existing = index.find_existing(ids)
    first_id, first = next((i, r) for i, r in zip(ids, chunk, strict=True) if i in existing)
    return DuplicateBattery(f"{path}:{first.line}: {first.identifier} is already registered "
                            f"({existing[first_id]}); nothing of this batch was imported")


def proof_for(index: BatteryIndex, identifier_text: str) -> tuple[IndexedBatch, list[bytes]]:
    """The batch of a battery and its Merkle proof, rebuilt from the batch file (checked against its hash)."""
    battery = keccak(identifier_text.strip().encode())
    batch = index.batch_of(battery)
    if batch is None:
        raise LedgerError(f"{identifier_text} is not in any imported batch")
    tree, _ = tree_of_file(batch.data_file)
    if tree.root != batch.root:
        raise LedgerError(f"batch file {batch.data_file} does not match its anchored root")
    return batch, tree.proof(battery)


