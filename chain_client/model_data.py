"""The public, model-level battery data sheet (Battery Pass 1.2.0 names), registered once per model.

The chain keeps the model's category and the keccak256 of the canonical JSON of this record (sorted keys, no
white space), so anyone holding the published record can check it against the chain.

A sheet holds everything the Battery Pass 1.2.0 schemas require at model level, in the schemas' own shapes:
``manufacturerInformation`` (company, postal address, identifier), ``manufacturingPlaces`` (plant identifier ->
postal address; a battery's record names its plant), ``materialComposition``, ``batteryTechicalProperties`` (sic,
the schema's spelling: rated capacity in Ah, rated energy in kWh, voltages in V, power in W, lifetime in years...),
``carbonFootprint`` (with ``carbonFootprintStudyHash``, the keccak256 of the study it declares), ``circularity``
(all but the recycled content, which comes from the chain), ``labeling`` and ``supplyChainDueDiligence``. Each
section is validated against its part of the schema, so a sheet that lacks a field the schemas require is refused.
``metalContent`` is the grams of each metal per battery (what usage claims count).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from chain_client import batterypass
from chain_client.errors import LedgerError
from chain_client.input_checks import strict_json
from chain_client.merkle import keccak
from chain_client.passports import ModelSpec
from chain_client.vocabulary import BatteryCategory, Material

CATEGORIES: dict[str, BatteryCategory] = {
    "EV": BatteryCategory.EV, "Industrial": BatteryCategory.INDUSTRIAL, "LMT": BatteryCategory.LMT,
    "Stationary": BatteryCategory.STATIONARY, "SLI": BatteryCategory.SLI, "Portable": BatteryCategory.PORTABLE}
SYMBOLS = {m.symbol for m in Material}
_HASH = re.compile(r"0x[0-9a-f]{64}")
#: What the 1.2.0 e-mail pattern ``^[w.-]+@[w.-]+.[A-Za-z]{2,}$`` meant (its backslashes are missing).
EMAIL = re.compile(r"[\w.-]+@[\w.-]+\.[A-Za-z]{2,}")

#: Sheet section -> (schema group, the group's fields the section holds). ``None``: the whole group.
SECTIONS: dict[str, tuple[str, set[str] | None]] = {
    "materialComposition": ("MaterialComposition", None),
    "carbonFootprint": ("CarbonFootprint", None),
    "circularity": ("Circularity", {"renewableContent", "dismantlingAndRemovalInformation", "sparePartSources",
                                    "safetyMeasures", "endOfLifeInformation"}),
    "labeling": ("Labeling", None),
    "supplyChainDueDiligence": ("SupplyChainDueDiligence", None),
}
#: Sheet fields that are one component of a group's schema: field -> (group, component).
COMPONENTS: dict[str, tuple[str, str]] = {
    "manufacturerInformation": ("GeneralProductInformation", "ManufacturerInformation"),
    "batteryTechicalProperties": ("PerformanceAndDurability", "BatteryTechnicalProperties"),
}


class BatteryModelData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    batteryModel: str = Field(min_length=1, max_length=100)
    batteryCategory: Literal["EV", "Industrial", "LMT", "Stationary", "SLI", "Portable"]
    batteryMass: float = Field(gt=0, description="kg")
    manufacturerInformation: dict[str, Any]
    manufacturingPlaces: dict[str, dict[str, Any]] = Field(min_length=1, description="plant id -> postal address")
    metalContent: dict[str, int] = Field(description="grams of each metal per battery, by symbol")
    externalStorageOnly: bool = Field(False, description="an industrial battery with exclusively external storage")
    materialComposition: dict[str, Any]
    batteryTechicalProperties: dict[str, Any]
    roundTripEfficiencyat50PerCentCycleLife: float = Field(ge=0, le=100, description="% (declared)")
    stateOfChargeAtDelivery: float = Field(ge=0, le=100, description="% when the battery leaves the plant")
    carbonFootprint: dict[str, Any]
    carbonFootprintStudyHash: str = Field(description="keccak256 of the carbon footprint study, 0x-prefixed")
    circularity: dict[str, Any]
    labeling: dict[str, Any]
    supplyChainDueDiligence: dict[str, Any]

    @field_validator("metalContent")
    @classmethod
    def _composition(cls, value: dict[str, int]) -> dict[str, int]:
        for symbol, grams in value.items():
            if symbol not in SYMBOLS:
                raise ValueError(f"unknown metal {symbol!r}: use {', '.join(sorted(SYMBOLS))}")
            if grams < 0:
                raise ValueError(f"{symbol}: {grams} g is impossible")
        return value

    @field_validator("carbonFootprintStudyHash")
    @classmethod
    def _study_hash(cls, value: str) -> str:
        if not _HASH.fullmatch(value):
            raise ValueError("must be 0x and 64 lower-case hex digits (keccak256 of the study)")
        return value

    @property
    def category(self) -> BatteryCategory:
        return CATEGORIES[self.batteryCategory]

    @property
    def rated_energy_wh(self) -> int:
        """Rated energy of one battery, Wh (the data sheet's ``ratedEnergy`` in kWh)."""
        return round(float(self.batteryTechicalProperties["ratedEnergy"]) * 1000)

    def spec(self) -> ModelSpec:
        """What goes on-chain for this model: category, contained metals, rated energy, exclusively external
        storage, and the data sheet's hash."""
        metals = frozenset(m for m in Material if self.metalContent.get(m.symbol, 0) > 0)
        return ModelSpec(self.category, metals, self.rated_energy_wh, self.externalStorageOnly, self.data_hash())

    def schema_problems(self) -> list[str]:
        """Every way the sheet's sections fail their Battery Pass 1.2.0 schemas (empty when it is complete)."""
        problems: list[str] = []
        for section, (group, fields) in SECTIONS.items():
            against = batterypass.restricted_schema(group, fields) if fields else None
            problems += [p.replace(f"{group}.", f"{section}.", 1).replace(".(root)", "")
                         for p in batterypass.validate(group, getattr(self, section), against)]
        for name, (group, component) in COMPONENTS.items():
            value = dict(getattr(self, name))
            email = value.pop("emailAddress", None)  # checked below: the schema's own pattern is defective
            if email is not None and not (isinstance(email, str) and EMAIL.fullmatch(email)):
                problems.append(f"{name}.emailAddress: {email!r} is not an e-mail address")
            problems += [p.replace(f"{group}.", f"{name}.", 1).replace(".(root)", "")
                         for p in batterypass.validate(group, value, batterypass.component_schema(group, component))]
        for plant, address in self.manufacturingPlaces.items():
            problems += [p.replace("GeneralProductInformation.", f"manufacturingPlaces.{plant}.", 1).replace(
                ".(root)", "") for p in batterypass.validate(
                "GeneralProductInformation", address,
                batterypass.component_schema("GeneralProductInformation", "ManufacturingPlace"))]
        return problems

    def canonical(self) -> bytes:
        return json.dumps(self.model_dump(), sort_keys=True, separators=(",", ":")).encode()

    def data_hash(self) -> bytes:
        return keccak(self.canonical())


def parse_model_data(raw: Any, source: str) -> BatteryModelData:
    """Validates a data sheet (parsed JSON); problems are reported with ``source`` and the field."""
    try:
        sheet = BatteryModelData.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise LedgerError(f"{source}: {problems}") from None
    schema_problems = sheet.schema_problems()
    if schema_problems:
        raise LedgerError(f"{source}: " + "; ".join(schema_problems))
    return sheet


def read_model_data(path: Path) -> BatteryModelData:
    """Reads and validates a data sheet; problems are reported with the file name and the field. Numbers must be
    JSON numbers (strict: no strings, no NaN / Infinity); a UTF-8 byte-order mark is accepted."""
    try:
        raw = strict_json(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise LedgerError(f"{path}: cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise LedgerError(f"{path}: line {exc.lineno}: invalid JSON: {exc.msg}") from None
    except UnicodeDecodeError:
        raise LedgerError(f"{path}: not UTF-8 text") from None
    except ValueError as exc:  # NaN / Infinity
        raise LedgerError(f"{path}: invalid JSON: {exc}") from None
    return parse_model_data(raw, str(path))


EXAMPLES = Path(batterypass.__file__).parent / "examples"


def example_sheet(name: str) -> BatteryModelData:
    """One of the example data sheets shipped with the package (``model-ev-ncm811``, ``model-ess-second-life``)."""
    return read_model_data(EXAMPLES / f"{name}.json")
