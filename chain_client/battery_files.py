"""Reading battery registration files (CSV or JSON Lines), line by line, with errors that name file and line.

Columns / keys: ``batteryPassportIdentifier`` (ISO/IEC 15459-style unique identifier: upper-case letters, digits and
``- . / : +``, at most 100 characters) and ``batteryModel`` (the model identifier registered on-chain). The optional columns ``manufacturingDate``,
``manufacturingPlace`` and ``warrantyUntil`` (all three or none) make up each battery's passport record, kept
off-chain in the index. Other columns are ignored.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from chain_client.errors import LedgerError

IDENTIFIER = re.compile(r"[0-9A-Z][0-9A-Z\-./:+]{0,99}")
ID_FIELD, MODEL_FIELD = "batteryPassportIdentifier", "batteryModel"
RECORD_COLUMNS = ("manufacturingDate", "manufacturingPlace", "warrantyUntil")


class FileFormatError(LedgerError):
    """A malformed line in a battery file."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line = path, line


@dataclass(frozen=True, slots=True)
class BatteryRow:
    line: int
    identifier: str
    model: str
    record: dict[str, object] | None = None  # the passport record columns, when the file has them


def _check(path: Path, line: int, identifier: object, model: object,
           record: dict[str, object] | None = None) -> BatteryRow:
    if not isinstance(identifier, str) or not identifier.strip():
        raise FileFormatError(path, line, f"missing {ID_FIELD}")
    ident = identifier.strip()
    if not IDENTIFIER.fullmatch(ident):
        raise FileFormatError(path, line, f"{ID_FIELD} {ident!r} is not an ISO/IEC 15459-style identifier "
                                          "(A-Z, 0-9, - . / : +; at most 100 characters)")
    if not isinstance(model, str) or not model.strip():
        raise FileFormatError(path, line, f"missing {MODEL_FIELD}")
    return BatteryRow(line, ident, model.strip(), record)


def read_rows(path: Path) -> Iterator[BatteryRow]:
    """Rows of a ``.csv`` (with a header) or ``.jsonl`` file; raises :class:`FileFormatError` at the first bad line."""
    if not path.is_file():
        raise LedgerError(f"{path}: no such file")
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        yield from _read_jsonl(path)
    elif path.suffix.lower() == ".csv":
        yield from _read_csv(path)
    else:
        raise LedgerError(f"{path}: unknown file type (use .csv or .jsonl)")


def _read_csv(path: Path) -> Iterator[BatteryRow]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise FileFormatError(path, 1, "empty file")
        header = [h.strip() for h in header]
        for needed in (ID_FIELD, MODEL_FIELD):
            if needed not in header:
                raise FileFormatError(path, 1, f"header lacks column {needed}")
        id_col, model_col, width = header.index(ID_FIELD), header.index(MODEL_FIELD), len(header)
        present = [c for c in RECORD_COLUMNS if c in header]
        if present and len(present) != len(RECORD_COLUMNS):
            missing = ", ".join(c for c in RECORD_COLUMNS if c not in header)
            raise FileFormatError(path, 1, f"header has record columns but lacks {missing}")
        record_cols = [(c, header.index(c)) for c in present]
        for fields in reader:
            line = reader.line_num
            if not fields:
                continue
            if len(fields) != width:
                raise FileFormatError(path, line, f"{len(fields)} fields, the header has {width}")
            record: dict[str, object] | None = {c: fields[i].strip() for c, i in record_cols} if record_cols else None
            yield _check(path, line, fields[id_col], fields[model_col], record)


def _read_jsonl(path: Path) -> Iterator[BatteryRow]:
    with path.open(encoding="utf-8") as f:
        for line, text in enumerate(f, start=1):
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                raise FileFormatError(path, line, f"invalid JSON: {exc.msg}") from None
            if not isinstance(obj, dict):
                raise FileFormatError(path, line, "expected a JSON object")
            present = [c for c in RECORD_COLUMNS if c in obj]
            if present and len(present) != len(RECORD_COLUMNS):
                missing = ", ".join(c for c in RECORD_COLUMNS if c not in obj)
                raise FileFormatError(path, line, f"record fields present but {missing} missing")
            record = {c: obj[c] for c in RECORD_COLUMNS} if present else None
            yield _check(path, line, obj.get(ID_FIELD), obj.get(MODEL_FIELD), record)


def count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(buf.count(b"\n") for buf in iter(lambda: f.read(1 << 20), b""))
