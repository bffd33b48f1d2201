"""The off-chain documents a battery passport is assembled from, each bound to the chain by a hash.

A data folder (``--data``, default ``bledger-data``) holds:

- ``models/<modelId>.json``: published model data sheets (canonical JSON; keccak256 = the model's ``dataHash``);
- ``participants/<address>.json``: an operator's contact record (name, postal address, identifier, web address);
  its keccak256 is the ``profileHash`` the authority registered it with;
- ``index.sqlite``: per-battery records (manufacturing date, plant, warranty end) supplied at registration or
  import, beside the batch index (a single registration also commits the record's hash as ``recordHash``);
- ``second-life/<successorId>.json``: what a reuse/repurposing business declares when it opens a new passport
  (predecessor, successor, the successor's record: date, plant, warranty); its keccak256 is the ``evidenceHash``
  of ``startSecondLife``, which the contract also stores as the successor's first record hash;
- ``authority/vin-salts.json``: the secret salt of each battery's vehicle identification hash (authority tier:
  never published, never on-chain).
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from chain_client import batterypass
from chain_client.battery_index import BatteryIndex
from chain_client.errors import LedgerError
from chain_client.merkle import keccak
from chain_client.model_data import BatteryModelData, parse_model_data
from chain_client.passport_ids import check_identifier


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())


class BatteryRecord(BaseModel):
    """Per-battery data the chain does not hold, supplied by the manufacturer at registration or import."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    manufacturingDate: datetime = Field(description="ISO 8601; a date alone means midnight UTC")
    manufacturingPlace: str = Field(min_length=1, description="a plant of the model's data sheet")
    warrantyUntil: date = Field(description="end of the commercial warranty")

    @field_validator("manufacturingDate")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    def canonical(self) -> bytes:
        return canonical_json(self.model_dump(mode="json"))

    def record_hash(self) -> bytes:
        return keccak(self.canonical())


def parse_record(raw: Any, source: str) -> BatteryRecord:
    try:
        return BatteryRecord.model_validate(raw)
    except ValidationError as exc:
        raise LedgerError(f"{source}: {_problems(exc)}") from None


#: Columns / keys of an import file that make up a battery's record.
RECORD_FIELDS = tuple(BatteryRecord.model_fields)


class ContactRecord(BaseModel):
    """An operator's contact information in the Battery Pass ``ContactInformationEntity`` shape."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    contactName: str = Field(min_length=1)
    postalAddress: dict[str, str]
    identifier: str = Field(min_length=1, description="the company's unique operator identifier")
    webAddress: str | None = None

    def as_schema(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump().items() if v is not None}

    def profile_hash(self) -> bytes:
        return keccak(canonical_json(self.as_schema()))


def parse_contact(raw: Any, source: str) -> ContactRecord:
    try:
        contact = ContactRecord.model_validate(raw)
    except ValidationError as exc:
        raise LedgerError(f"{source}: {_problems(exc)}") from None
    problems = batterypass.validate("GeneralProductInformation", contact.as_schema(),
                                    batterypass.component_schema("GeneralProductInformation", "OperatorInformation"))
    if problems:
        raise LedgerError(f"{source}: " + "; ".join(p.split(": ", 1)[1] for p in problems))
    return contact


class SecondLifeRecord(BaseModel):
    """A new passport opened on reuse, repurposing or remanufacturing: the successor's own record (its model is on
    the chain: ``startSecondLife`` names it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    predecessor: str
    successor: str
    record: BatteryRecord
    evidenceHash: str = Field(description="keccak256 of the conversion evidence, 0x-prefixed")

    @field_validator("predecessor", "successor")
    @classmethod
    def _ident(cls, value: str) -> str:
        return check_identifier(value)

    def canonical(self) -> bytes:
        return canonical_json(self.model_dump(mode="json"))

    def evidence_hash(self) -> bytes:
        """What goes on-chain as ``startSecondLife``'s evidence hash."""
        return keccak(self.canonical())


def vin_hash(vin: str, salt: bytes) -> bytes:
    """The vehicle link on-chain: keccak256(salt ‖ VIN). Without the 32-byte secret salt the VIN cannot be found by
    trying the VIN space; with it (authority tier) a given VIN can be checked."""
    canonical = vin.strip().upper()
    if not canonical:
        raise ValueError("a VIN cannot be empty")
    if len(salt) != 32:
        raise ValueError("the VIN salt must be 32 bytes")
    return keccak(salt + canonical.encode())


class PassportDocuments:
    """A data folder's passport documents (see the module docstring). Close it when done (it holds the index)."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self._index: BatteryIndex | None = None

    @property
    def index(self) -> BatteryIndex:
        if self._index is None:
            self._index = BatteryIndex(self.data / "index.sqlite")
        return self._index

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None

    def __enter__(self) -> PassportDocuments:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # model data sheets ---------------------------------------------------------------------------------------
    def publish_model(self, sheet: BatteryModelData) -> Path:
        path = self.data / "models" / f"{keccak(sheet.batteryModel.strip().encode()).hex()}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(sheet.canonical())
        return path

    def model_sheet(self, model_id: bytes) -> BatteryModelData | None:
        path = self.data / "models" / f"{model_id.hex()}.json"
        if not path.is_file():
            return None
        return parse_model_data(json.loads(path.read_text()), str(path))

    # operators -----------------------------------------------------------------------------------------------
    def publish_contact(self, address: str, contact: ContactRecord) -> Path:
        path = self.data / "participants" / f"{address}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(canonical_json(contact.as_schema()))
        return path

    def contact(self, address: str) -> ContactRecord | None:
        path = self.data / "participants" / f"{address}.json"
        if not path.is_file():
            return None
        return parse_contact(json.loads(path.read_text()), str(path))

    # per-battery records -------------------------------------------------------------------------------------
    def battery_record(self, battery_id: bytes) -> BatteryRecord | None:
        raw = self.index.record_of(battery_id)
        return None if raw is None else parse_record(json.loads(raw), f"record of 0x{battery_id.hex()}")

    # second life ---------------------------------------------------------------------------------------------
    def publish_second_life(self, successor_id: bytes, record: SecondLifeRecord) -> Path:
        path = self.data / "second-life" / f"{successor_id.hex()}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(record.canonical())
        return path

    def second_life(self, successor_id: bytes) -> SecondLifeRecord | None:
        path = self.data / "second-life" / f"{successor_id.hex()}.json"
        if not path.is_file():
            return None
        try:
            return SecondLifeRecord.model_validate(json.loads(path.read_text()))
        except ValidationError as exc:
            raise LedgerError(f"{path}: {_problems(exc)}") from None

    # VIN salts (authority tier) ------------------------------------------------------------------------------
    def _salts_path(self) -> Path:
        return self.data / "authority" / "vin-salts.json"

    def _salts(self) -> dict[str, str]:
        path = self._salts_path()
        return json.loads(path.read_text()) if path.is_file() else {}

    def new_vin_salt(self, battery_id: bytes) -> bytes:
        """A fresh secret salt for ``battery_id``'s VIN hash, kept in ``authority/vin-salts.json`` (mode 0600)."""
        salts = self._salts()
        salt = secrets.token_bytes(32)
        salts[battery_id.hex()] = salt.hex()
        path = self._salts_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            json.dump(salts, f, indent=1)
        tmp.replace(path)
        return salt

    def vin_salt(self, battery_id: bytes) -> bytes | None:
        value = self._salts().get(battery_id.hex())
        return None if value is None else bytes.fromhex(value)
