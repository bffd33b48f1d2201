"""Measurement files exported by evaluation equipment or a BMS: CSV (with a header), JSON (an array) or JSON Lines.

Fields (CSV columns / JSON keys):

| field | unit | rule |
|---|---|---|
| ``batteryPassportIdentifier`` | | ISO/IEC 15459-style identifier of the battery |
| ``stateOfHealth`` | percent | 0 to 100, at most two decimals |
| ``remainingCapacity`` | kWh | >= 0, at most three decimals |
| ``internalResistanceIncrease`` | percent | >= 0, at most two decimals |
| ``cycleCount`` | | integer >= 0 |
| ``faultFlags`` | | ``|``-separated names of :class:`chain_client.rules.FaultFlag` (e.g. ``THERMAL_EVENT``), or empty |
| ``measuredAt`` | | ISO 8601 date-time (UTC when no zone is given), not in the future |
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from chain_client.battery_files import ENCODING, IDENTIFIER, bounded_lines
from chain_client.errors import LedgerError
from chain_client.input_checks import InputError, check_int, strict_json
from chain_client.rules import FaultFlag

FIELDS = ("batteryPassportIdentifier", "stateOfHealth", "remainingCapacity", "internalResistanceIncrease",
          "cycleCount", "faultFlags", "measuredAt")


class MeasurementFileError(LedgerError):
    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line = path, line


@dataclass(frozen=True)
class Measurement:
    """One validated reading, in the contract's integer units."""

    source: str  # file:line
    identifier: str
    state_of_health_bps: int
    remaining_capacity_wh: int
    resistance_increase_bps: int
    cycle_count: int
    fault_flags: int
    measured_at: int
    raw: str  # the canonical JSON of the reading; its keccak256 is the report's evidence hash


def _scaled(value: Any, scale: int, name: str, upper: Decimal | None = None) -> int:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(f"{name} {value!r} is not a number") from None
    if not number.is_finite() or number < 0:
        raise ValueError(f"{name} {value!r} is impossible (must be >= 0)")
    if upper is not None and number > upper:
        raise ValueError(f"{name} {value!r} is impossible (must be <= {upper})")
    scaled = number * scale
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{name} {value!r} has too many decimals")
    return int(scaled)


def _flags(value: Any) -> int:
    if value is None or str(value).strip() == "":
        return 0
    flags = 0  # a plain int: the ABI encoder does not take IntFlag members
    for name in str(value).split("|"):
        try:
            flags |= int(FaultFlag[name.strip().upper()])
        except KeyError:
            raise ValueError(f"unknown fault flag {name.strip()!r}: use {', '.join(str(f.name) for f in FaultFlag)}") from None
    return flags


def _time(value: Any, now: float) -> int:
    try:
        parsed = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"measuredAt {value!r} is not an ISO 8601 date-time") from None
    ts = int((parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp())
    if ts > now + 300:
        raise ValueError(f"measuredAt {value!r} is in the future")
    return ts


def parse_row(row: dict[str, Any], source: str, now: float) -> Measurement:
    missing = [f for f in FIELDS if f not in row and f != "faultFlags"]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    ident = str(row["batteryPassportIdentifier"]).strip()
    if not IDENTIFIER.fullmatch(ident):
        raise ValueError(f"batteryPassportIdentifier {ident!r} is not an ISO/IEC 15459-style identifier")
    try:
        cycles = int(str(row["cycleCount"]).strip())
    except ValueError:
        raise ValueError(f"cycleCount {row['cycleCount']!r} is not an integer") from None
    if cycles < 0:
        raise ValueError(f"cycleCount {cycles} is impossible (must be >= 0)")
    m = Measurement(
        source=source,
        identifier=ident,
        state_of_health_bps=_scaled(row["stateOfHealth"], 100, "stateOfHealth", Decimal(100)),
        remaining_capacity_wh=_scaled(row["remainingCapacity"], 1000, "remainingCapacity"),
        resistance_increase_bps=_scaled(row["internalResistanceIncrease"], 100, "internalResistanceIncrease"),
        cycle_count=cycles,
        fault_flags=_flags(row.get("faultFlags")),
        measured_at=_time(row["measuredAt"], now),
        raw="",
    )
    for field_name, abi_type, value in (("stateOfHealth", "uint16", m.state_of_health_bps),
                                        ("remainingCapacity", "uint32", m.remaining_capacity_wh),
                                        ("internalResistanceIncrease", "uint16", m.resistance_increase_bps),
                                        ("cycleCount", "uint32", m.cycle_count)):
        try:
            check_int(value, abi_type, field_name)
        except InputError as exc:
            raise ValueError(f"{exc} in the report's units") from None
    canonical = json.dumps({k: str(row.get(k, "")).strip() for k in FIELDS}, sort_keys=True, separators=(",", ":"))
    return replace(m, raw=canonical)


NUMERIC = ("stateOfHealth", "remainingCapacity", "internalResistanceIncrease", "cycleCount")


def _json_numbers(obj: dict[str, Any]) -> dict[str, Any]:
    """In JSON, numbers must be JSON numbers: ``"80"`` (a string) or ``true`` is refused, not coerced."""
    for name in NUMERIC:
        value = obj.get(name)
        if name in obj and (isinstance(value, bool) or not isinstance(value, (int, float, Decimal))):
            raise ValueError(f"{name} must be a JSON number, not {json.dumps(value)}")
    return obj


def _rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(newline="", encoding=ENCODING) as f:
            reader = csv.DictReader(bounded_lines(f, path))
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    raise MeasurementFileError(path, reader.line_num, f"malformed CSV: {exc}") from None
                if None in row or any(v is None for v in row.values()):
                    raise MeasurementFileError(path, reader.line_num, "wrong number of fields")
                yield reader.line_num, row
    elif suffix in (".jsonl", ".ndjson"):
        with path.open(encoding=ENCODING) as f:
            for line, text in enumerate(bounded_lines(f, path), start=1):
                if text.strip():
                    try:
                        obj = strict_json(text, exact=True)
                    except json.JSONDecodeError as exc:
                        raise MeasurementFileError(path, line, f"invalid JSON: {exc.msg}") from None
                    except ValueError as exc:
                        raise MeasurementFileError(path, line, f"invalid JSON: {exc}") from None
                    if not isinstance(obj, dict):
                        raise MeasurementFileError(path, line, "expected a JSON object")
                    yield line, _json_numbers_at(path, line, obj)
    elif suffix == ".json":
        try:
            data = strict_json(path.read_text(encoding=ENCODING), exact=True)
        except json.JSONDecodeError as exc:
            raise MeasurementFileError(path, exc.lineno, f"invalid JSON: {exc.msg}") from None
        except ValueError as exc:
            raise MeasurementFileError(path, 1, f"invalid JSON: {exc}") from None
        if not isinstance(data, list):
            raise MeasurementFileError(path, 1, "expected a JSON array of readings")
        for i, obj in enumerate(data, start=1):
            if not isinstance(obj, dict):
                raise MeasurementFileError(path, i, "expected a JSON object (reading number given as line)")
            yield i, _json_numbers_at(path, i, obj)
    else:
        raise LedgerError(f"{path}: unknown file type (use .csv, .json or .jsonl)")


def _json_numbers_at(path: Path, line: int, obj: dict[str, Any]) -> dict[str, Any]:
    try:
        return _json_numbers(obj)
    except ValueError as exc:
        raise MeasurementFileError(path, line, str(exc)) from None


def read_measurements(path: Path, now: float | None = None) -> list[Measurement]:
    """Every reading of ``path``, validated; the first bad one raises :class:`MeasurementFileError` (file and line)
    and nothing of the file is returned."""
    if not path.is_file():
        raise LedgerError(f"{path}: no such file")
    clock = datetime.now(UTC).timestamp() if now is None else now
    out = []
    for line, row in _rows(path):
        try:
            out.append(parse_row(row, f"{path.name}:{line}", clock))
        except ValueError as exc:
            raise MeasurementFileError(path, line, str(exc)) from None
    return out
