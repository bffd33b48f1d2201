"""The public, model-level battery data (Battery Pass / DIN DKE SPEC 99100 names), registered once per model.

The chain keeps the model's category and the keccak256 of the canonical JSON of this record (sorted keys, no
white space), so anyone holding the published record can check it against the chain.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from chain_client.errors import LedgerError
from chain_client.merkle import keccak
from chain_client.passports import ModelSpec
from chain_client.vocabulary import BatteryCategory, Material

CATEGORIES: dict[str, BatteryCategory] = {"EV": BatteryCategory.EV, "Industrial": BatteryCategory.INDUSTRIAL,
                                          "LMT": BatteryCategory.LMT, "Stationary": BatteryCategory.STATIONARY}
SYMBOLS = {m.symbol for m in Material}


class BatteryModelData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    batteryModel: str = Field(min_length=1, max_length=100)
    batteryCategory: Literal["EV", "Industrial", "LMT", "Stationary"]
    batteryChemistry: str = Field(min_length=1, max_length=40)  # e.g. NMC811, LFP
    ratedCapacity: float = Field(gt=0, description="Ah")
    nominalVoltage: float = Field(gt=0, description="V")
    batteryMass: float = Field(gt=0, description="kg")
    materialComposition: dict[str, int] = Field(description="grams of each metal per battery, by symbol")
    manufacturerIdentification: str = Field(min_length=1)
    manufacturingPlace: str = Field(min_length=1, description="the plant")

    @field_validator("materialComposition")
    @classmethod
    def _composition(cls, value: dict[str, int]) -> dict[str, int]:
        for symbol, grams in value.items():
            if symbol not in SYMBOLS:
                raise ValueError(f"unknown metal {symbol!r}: use {', '.join(sorted(SYMBOLS))}")
            if grams < 0:
                raise ValueError(f"{symbol}: {grams} g is impossible")
        return value

    @property
    def category(self) -> BatteryCategory:
        return CATEGORIES[self.batteryCategory]

    @property
    def rated_energy_wh(self) -> int:
        """Rated energy of one battery, Wh (capacity x nominal voltage, rounded)."""
        return round(self.ratedCapacity * self.nominalVoltage)

    def spec(self) -> ModelSpec:
        """What goes on-chain for this model: category, contained metals, rated energy and the data sheet's hash."""
        metals = frozenset(m for m in Material if self.materialComposition.get(m.symbol, 0) > 0)
        return ModelSpec(self.category, metals, self.rated_energy_wh, False, self.data_hash())

    def canonical(self) -> bytes:
        return json.dumps(self.model_dump(), sort_keys=True, separators=(",", ":")).encode()

    def data_hash(self) -> bytes:
        return keccak(self.canonical())


def read_model_data(path: Path) -> BatteryModelData:
    """Reads and validates a data sheet; problems are reported with the file name and the field."""
    try:
        return BatteryModelData.model_validate(json.loads(path.read_text()))
    except OSError as exc:
        raise LedgerError(f"{path}: cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise LedgerError(f"{path}: line {exc.lineno}: invalid JSON: {exc.msg}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise LedgerError(f"{path}: {problems}") from None
