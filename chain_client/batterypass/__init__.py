"""The Battery Pass data model 1.2.0 (JSON schemas of the Battery Pass consortium, CC-BY-4.0; see README.md here).

One schema per attribute group; :func:`validate` checks an exported group with ``jsonschema`` (draft-04 with format
checks) and :func:`restricted_schema` derives the schema a partial (tiered) view of a group must meet.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator

HERE = Path(__file__).parent

#: Attribute groups, in the order of the DIN DKE SPEC 99100, each with its schema file's stem.
GROUPS: dict[str, str] = {
    "GeneralProductInformation": "GeneralProductInformation",
    "Circularity": "Circularity",
    "MaterialComposition": "MaterialComposition",
    "PerformanceAndDurability": "PerformanceAndDurability",
    "CarbonFootprint": "CarbonFootprintForBatteries",
    "Labeling": "Labeling",
    "SupplyChainDueDiligence": "SupplyChainDueDiligence",
}


@cache
def schema(group: str) -> dict[str, Any]:
    """The schema of ``group`` (a key of :data:`GROUPS`)."""
    data: dict[str, Any] = json.loads((HERE / f"{GROUPS[group]}-schema.json").read_text(encoding="utf-8"))
    return data


def restricted_schema(group: str, fields: set[str]) -> dict[str, Any]:
    """The schema of ``group`` requiring only the top-level ``fields`` a tier holds (the rest may not appear)."""
    s = copy.deepcopy(schema(group))
    s["required"] = [r for r in s.get("required", []) if r in fields]
    s["properties"] = {k: v for k, v in s["properties"].items() if k in fields}
    s["additionalProperties"] = False
    return s


def validate(group: str, value: dict[str, Any], against: dict[str, Any] | None = None) -> list[str]:
    """Every error of ``value`` against the schema of ``group`` (or ``against``), as ``path: message``."""
    validator = Draft4Validator(against or schema(group), format_checker=Draft4Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{group}.{'.'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors]


def component_schema(group: str, component: str) -> dict[str, Any]:
    """A schema for one component (``components.schemas.NAME``) of a group's schema."""
    s = schema(group)
    return {"$schema": s["$schema"], "components": s["components"], "$ref": f"#/components/schemas/{component}"}
