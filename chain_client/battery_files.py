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
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple, TextIO
from pathlib import Path

from chain_client.errors import LedgerError
from chain_client.input_checks import strict_json

IDENTIFIER = re.compile(r"[0-9A-Z][0-9A-Z\-./:+]{0,99}")
ID_FIELD, MODEL_FIELD = "batteryPassportIdentifier", "batteryModel"
RECORD_COLUMNS = ("manufacturingDate", "manufacturingPlace", "warrantyUntil")
#: Longest line read (characters): a line beyond it is refused, so memory stays bounded whatever the file holds.
MAX_LINE = 65_536
#: UTF-8 with or without a byte-order mark (Excel writes one in CSV files).
ENCODING = "utf-8-sig"


class FileFormatError(LedgerError):
    """A malformed line in a battery file."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line = path, line


class BatteryRow(NamedTuple):
    """One battery of a file (a named tuple: a million are made per import, and tuples are cheap to make)."""

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


def bounded_lines(f: TextIO, path: Path, limit: int = MAX_LINE) -> Iterator[str]:
    """The lines of ``f``; a line longer than ``limit`` characters raises :class:`FileFormatError` without being read
    whole."""
    line_no = 0
    while True:
        text = f.readline(limit + 1)
        if not text:
            return
        line_no += 1
        if len(text) > limit and not text.endswith("\n"):
            raise FileFormatError(path, line_no, f"line longer than {limit:,} characters")
        yield text


def _csv_records(reader: Iterable[list[str]], path: Path, line: Callable[[], int]) -> Iterator[list[str]]:
    """csv records, with the csv module's own errors (say an unterminated quote) reported at their line."""
    it = iter(reader)
    while True:
        try:
            fields = next(it)
        except StopIteration:
            return
        except csv.Error as exc:
            raise FileFormatError(path, line(), f"malformed CSV: {exc}") from None
        yield fields


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
    with path.open(newline="", encoding=ENCODING) as f:
        reader = csv.reader(bounded_lines(f, path))
        records = _csv_records(reader, path, lambda: reader.line_num)
        header = next(records, None)
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
        valid = IDENTIFIER.fullmatch
        for fields in records:
            line = reader.line_num
            if not fields:
                continue
            if len(fields) != width:
                raise FileFormatError(path, line, f"{len(fields)} fields, the header has {width}")
            record: dict[str, object] | None = {c: fields[i].strip() for c, i in record_cols} if record_cols else None
            ident, model = fields[id_col].strip(), fields[model_col].strip()
            if model and valid(ident):  # the common case, checked inline (a million rows a run)
                yield BatteryRow(line, ident, model, record)
            else:
                yield _check(path, line, fields[id_col], fields[model_col], record)


def _read_jsonl(path: Path) -> Iterator[BatteryRow]:
    with path.open(encoding=ENCODING) as f:
        for line, text in enumerate(bounded_lines(f, path), start=1):
            if not text.strip():
                continue
            try:
                obj = strict_json(text)
            except json.JSONDecodeError as exc:
                raise FileFormatError(path, line, f"invalid JSON: {exc.msg}") from None
            except ValueError as exc:
                raise FileFormatError(path, line, f"invalid JSON: {exc}") from None
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
