"""The manufacturer-side index of registered batteries: which batch holds which id, and where the batch file is.

It is an index, not a second truth: the chain holds the batch roots and the batch files are bound to them by hash,
so the index can be rebuilt from the batch files and the chain's events (:func:`chain_client.battery_reconcile.
rebuild_index`, ``bledger battery index rebuild``). It serves duplicate detection before anchoring, resuming
interrupted imports, and proofs. A damaged file raises :class:`IndexDamaged`, which names the file and the command.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from chain_client.errors import LedgerError

SCHEMA = """
CREATE TABLE IF NOT EXISTS batteries (
    id BLOB PRIMARY KEY,        -- keccak256 of the identifier
    identifier TEXT NOT NULL,
    batch_root BLOB,            -- NULL for a battery registered on its own
    source TEXT NOT NULL,       -- file:line it came from, or 'single'
    registered_on_chain INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
-- batteries of the batches a running import has anchored, appended in file order (no index to update: a batch of
-- 10,000 hash-keyed ids would dirty pages all over the batteries B-tree); merged into batteries, sorted by id, when
-- the import ends or the next one starts. Readers see both tables.
CREATE TABLE IF NOT EXISTS staged (
    id BLOB NOT NULL,
    identifier TEXT NOT NULL,
    batch_root BLOB,
    source TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS batches (
    root BLOB PRIMARY KEY,
    batch_id INTEGER NOT NULL,
    model TEXT NOT NULL,
    count INTEGER NOT NULL,
    source TEXT NOT NULL,
    first_line INTEGER NOT NULL,
    last_line INTEGER NOT NULL,
    data_file TEXT NOT NULL,
    origin TEXT NOT NULL         -- "anchored" now, or "found on-chain" when resuming
);
CREATE TABLE IF NOT EXISTS records (
    id BLOB PRIMARY KEY,        -- keccak256 of the identifier
    record TEXT NOT NULL        -- canonical JSON: manufacturing date, plant, warranty end (passport_documents)
) WITHOUT ROWID;
"""


class IndexDamaged(LedgerError):
    """The index file cannot be read as a SQLite database (truncated, overwritten, ...)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"the battery index {path} is damaged ({reason}): rebuild it from the batch files and the "
                         f"chain with `bledger battery index rebuild --data {path.parent}`")
        self.path = path


@contextmanager
def damage_reported(path: Path) -> Iterator[None]:
    """Turns SQLite's "file is not a database" / "malformed" errors about ``path`` into :class:`IndexDamaged`
    (constraint violations, which are not damage, pass through)."""
    try:
        yield
    except sqlite3.IntegrityError:
        raise
    except sqlite3.DatabaseError as exc:
        raise IndexDamaged(path, str(exc)) from None


@dataclass(frozen=True)
class IndexedBatch:
    root: bytes
    batch_id: int
    model: str
    count: int
    source: str
    first_line: int
    last_line: int
    data_file: Path


class BatteryIndex:
    """A SQLite file. Use one per manufacturer and chain."""

    def __init__(self, path: Path, verify: bool = False) -> None:
        """Opens (or creates) the index; ``verify`` also runs SQLite's ``quick_check`` over the whole file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        with damage_reported(path):
            self.db = sqlite3.connect(path, isolation_level=None)
            try:
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                # ids are hashes, so inserts land all over the B-tree: keep it in memory (up to ~256 MiB) while
                # importing
                self.db.execute("PRAGMA cache_size=-262144")
                # a batch of 10,000 hash-keyed rows dirties thousands of pages: checkpoint the WAL into the file
                # every ~64 MiB rather than every 4 MiB (SQLite's default), or most commits pay a checkpoint
                self.db.execute("PRAGMA wal_autocheckpoint=16384")
                self.db.executescript(SCHEMA)
                if verify:
                    result = self.db.execute("PRAGMA quick_check(1)").fetchone()[0]
                    if result != "ok":
                        raise sqlite3.DatabaseError(result)
            except BaseException:
                self.db.close()
                raise

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All or nothing: rolled back if the block raises (the batch then leaves no trace)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def find_existing(self, ids: Iterable[bytes]) -> dict[bytes, str]:
        """Those of ``ids`` already indexed, with where they came from."""
        found: dict[bytes, str] = {}
        chunk: list[bytes] = []
        for battery_id in ids:
            chunk.append(battery_id)
            if len(chunk) == 900:
                found.update(self._lookup(chunk))
                chunk = []
        if chunk:
            found.update(self._lookup(chunk))
        return found

    def find_merged(self, ids: list[bytes]) -> dict[bytes, str]:
        """Those of ``ids`` in the merged table (the import's own check: it keeps the ids it staged itself)."""
        found: dict[bytes, str] = {}
        for start in range(0, len(ids), 900):
            chunk = ids[start:start + 900]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(f"SELECT id, source FROM batteries WHERE id IN ({marks})", chunk)
            found.update((bytes(r[0]), r[1]) for r in rows)
        return found

    def _lookup(self, chunk: list[bytes]) -> dict[bytes, str]:
        found = self.find_merged(chunk)
        if self.has_staged():
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(f"SELECT id, source FROM staged WHERE id IN ({marks})", chunk)
            found.update((bytes(r[0]), r[1]) for r in rows)
        return found

    def add_batteries(self, rows: Iterable[tuple[bytes, str, bytes | None, str]]) -> None:
        """Inserts (id, identifier, batch root, source) rows; a duplicate raises ``sqlite3.IntegrityError``."""
        self.db.executemany("INSERT INTO batteries (id, identifier, batch_root, source) VALUES (?, ?, ?, ?)", rows)

    def stage_batteries(self, rows: Iterable[tuple[bytes, str, bytes | None, str]]) -> None:
        """Appends (id, identifier, batch root, source) rows of an import's batch; the importer has checked them
        against :meth:`find_merged` and its own earlier batches (:meth:`merge_staged` enforces uniqueness)."""
        self.db.executemany("INSERT INTO staged (id, identifier, batch_root, source) VALUES (?, ?, ?, ?)", rows)

    def has_staged(self) -> bool:
        return self.db.execute("SELECT EXISTS (SELECT 1 FROM staged)").fetchone()[0] == 1

    def merge_staged(self) -> int:
        """Moves the staged batteries into the batteries table, in id order (one pass over the B-tree); returns how
        many. All or nothing: a repeated id raises ``sqlite3.IntegrityError`` and leaves both tables as they were."""
        if not self.has_staged():
            return 0
        with self.transaction() as db:
            moved = db.execute("INSERT INTO batteries (id, identifier, batch_root, source) SELECT id, identifier, "
                               "batch_root, source FROM staged ORDER BY id").rowcount
            db.execute("DELETE FROM staged")
        return int(moved)

    def add_records(self, rows: Iterable[tuple[bytes, str]]) -> None:
        """Stores (id, canonical record JSON) rows: the per-battery data of a passport (replaces an older one)."""
        self.db.executemany("INSERT OR REPLACE INTO records (id, record) VALUES (?, ?)", rows)

    def record_of(self, battery_id: bytes) -> str | None:
        row = self.db.execute("SELECT record FROM records WHERE id = ?", (battery_id,)).fetchone()
        return None if row is None else str(row[0])

    def batch_by_root(self, root: bytes) -> IndexedBatch | None:
        row = self.db.execute("SELECT root, batch_id, model, count, source, first_line, last_line, data_file "
                              "FROM batches WHERE root = ?", (root,)).fetchone()
        if row is None:
            return None
        return IndexedBatch(bytes(row[0]), row[1], row[2], row[3], row[4], row[5], row[6], Path(row[7]))

    def add_batch(self, batch: IndexedBatch, origin: str) -> None:
        self.db.execute(
            "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (batch.root, batch.batch_id, batch.model, batch.count, batch.source, batch.first_line, batch.last_line,
             str(batch.data_file), origin),
        )

    def last_imported_line(self, source: str) -> int:
        row = self.db.execute("SELECT MAX(last_line) FROM batches WHERE source = ?", (source,)).fetchone()
        return int(row[0] or 0)

    def batch_of(self, battery_id: bytes) -> IndexedBatch | None:
        row = self.db.execute(
            "SELECT b.root, b.batch_id, b.model, b.count, b.source, b.first_line, b.last_line, b.data_file "
            "FROM batteries t JOIN batches b ON b.root = t.batch_root WHERE t.id = ?", (battery_id,)).fetchone()
        if row is None and self.has_staged():
            row = self.db.execute(
                "SELECT b.root, b.batch_id, b.model, b.count, b.source, b.first_line, b.last_line, b.data_file "
                "FROM staged t JOIN batches b ON b.root = t.batch_root WHERE t.id = ?", (battery_id,)).fetchone()
        if row is None:
            return None
        return IndexedBatch(bytes(row[0]), row[1], row[2], row[3], row[4], row[5], row[6], Path(row[7]))

    def batches(self) -> list[tuple[IndexedBatch, str]]:
        """Every indexed batch with its origin, in anchoring order."""
        rows = self.db.execute("SELECT root, batch_id, model, count, source, first_line, last_line, data_file, origin "
                               "FROM batches ORDER BY batch_id")
        return [(IndexedBatch(bytes(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], Path(r[7])), r[8]) for r in rows]

    def set_batch_id(self, root: bytes, batch_id: int, origin: str) -> None:
        """Records that the batch of ``root`` now has id ``batch_id`` on-chain (re-anchored, or corrected)."""
        self.db.execute("UPDATE batches SET batch_id = ?, origin = ? WHERE root = ?", (batch_id, origin, root))

    def singles(self) -> list[tuple[bytes, str]]:
        """(id, identifier) of the batteries registered on their own."""
        return [(bytes(r[0]), r[1]) for r in self.db.execute("SELECT id, identifier FROM batteries WHERE batch_root IS "
                                                             "NULL")]

    def remove_battery(self, battery_id: bytes) -> None:
        self.db.execute("DELETE FROM batteries WHERE id = ?", (battery_id,))
        self.db.execute("DELETE FROM staged WHERE id = ?", (battery_id,))

    def count(self) -> int:
        return int(self.db.execute("SELECT (SELECT COUNT(*) FROM batteries) + (SELECT COUNT(*) FROM staged)")
                   .fetchone()[0])

    def identifier_of(self, battery_id: bytes) -> str | None:
        row = self.db.execute("SELECT identifier FROM batteries WHERE id = ?", (battery_id,)).fetchone()
        if row is None and self.has_staged():
            row = self.db.execute("SELECT identifier FROM staged WHERE id = ?", (battery_id,)).fetchone()
        return None if row is None else str(row[0])
