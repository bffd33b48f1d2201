"""Where the values a proof bundle needs live in contract storage, derived from solc's ``storageLayout``.

Nothing here hard-codes a slot number: :func:`verifier_layout` reads the committed storage layouts
(``chain_client/artifacts/storage-layouts.json``, written by ``bledger build``) and reduces them to the variables
and struct fields the verifier reads. That reduced layout travels in the trust file next to each contract's pinned
code hash, so the offline verifiers (Python and the browser page) derive the same slots from the same data, and a
layout change (storage packing for gas) changes the layout instead of silently breaking proofs.

Slot arithmetic follows the Solidity documentation ("Layout of state variables in storage"): a mapping value of key
``k`` at base slot ``p`` lives at ``keccak256(pad32(k) . pad32(p))``; a dynamic array at ``p`` keeps its length at
``p`` and its elements from ``keccak256(pad32(p))``; values smaller than 32 bytes are packed right-aligned from
``offset``.
"""

from __future__ import annotations

from typing import Any

from eth_hash.auto import keccak

#: The state variables the verifier reads, and the fields of their values it needs, per contract. A field name of
#: ``"value"`` stands for a mapping or variable whose value is not a struct.
NEEDED: dict[str, dict[str, tuple[str, ...]]] = {
    "BatteryPassports": {
        "_batteries": ("operator", "status", "closed", "sequence", "updatedAt", "model"),
        "_models": ("manufacturer", "category", "metals", "externalStorageOnly", "ratedEnergyWh", "dataHash"),
        "_batches": ("manufacturer", "count", "anchoredAt", "modelId", "root"),
        "_modelIds": ("value",),
    },
    "UsageAttestations": {
        "_claims": ("claimant", "status", "custodyModel", "openedAt", "decidedAt", "periodStart", "periodEnd",
                    "allocationCount",
                    "batteryModel", "plant", "batteriesRoot", "evidenceHash"),
        "_allocations": ("lotId", "grams", "material", "feedstock"),
        "_content": ("contentGrams",),
    },
    "ProductionCertificates": {
        "_lots": ("recycler", "material", "feedstock", "status", "decidedAt"),
    },
    "RecycledContentTargets": {
        "_milestones": ("effectiveFrom", "minimumBps"),
        "_years": ("value",),
        "_scopeFrom": ("value",),
        "_custodyCounts": ("value",),
        "_industrialThresholdWh": ("value",),
    },
}


class LayoutError(ValueError):
    """A variable or field the verifier needs is missing from the storage layout."""


def _innermost(types: dict[str, Any], type_id: str) -> tuple[str, int]:
    """The value type behind mappings (and the number of mapping levels)."""
    depth = 0
    while types[type_id]["encoding"] == "mapping":
        type_id = types[type_id]["value"]
        depth += 1
    return type_id, depth


def _field(types: dict[str, Any], member: dict[str, Any]) -> list[int]:
    """``[slot, offset, bytes]``, or ``[slot, offset, element bytes, count]`` for a static array of value types."""
    t = types[member["type"]]
    if t["encoding"] == "inplace" and "base" in t:  # a static array: uint16[6]
        base = types[t["base"]]
        count = int(t["label"].rsplit("[", 1)[1].rstrip("]"))
        return [int(member["slot"]), int(member["offset"]), int(base["numberOfBytes"]), count]
    return [int(member["slot"]), int(member["offset"]), int(t["numberOfBytes"])]


def reduce_variable(layout: dict[str, Any], contract: str, label: str, fields: tuple[str, ...]) -> dict[str, Any]:
    """One variable of ``layout`` (solc's storageLayout of ``contract``) as the verifier reads it:
    ``{"slot", "depth" (mapping levels), "fields": {name: [slot, offset, bytes(, count)]}, "elementSlots" |
    "elementBytes" (dynamic arrays)}``."""
    types = layout["types"]
    found = [v for v in layout["storage"] if v["label"] == label]
    if not found:
        raise LayoutError(f"{contract} has no state variable {label} (the contracts changed: update NEEDED)")
    var = found[0]
    out: dict[str, Any] = {"slot": int(var["slot"])}
    value_type, out["depth"] = _innermost(types, var["type"])
    t = types[value_type]
    if t["encoding"] == "dynamic_array":
        base = types[t["base"]]
        if "members" in base:
            out["elementSlots"] = int(base["numberOfBytes"]) // 32
            value_type, t = t["base"], base
        else:
            out["elementBytes"] = int(base["numberOfBytes"])
            value_type, t = t["base"], base
    if "members" in t:
        members = {m["label"]: m for m in t["members"]}
        missing = [f for f in fields if f not in members]
        if missing:
            raise LayoutError(f"{contract}.{label} has no field {', '.join(missing)}")
        out["fields"] = {f: _field(types, members[f]) for f in fields}
    else:
        if fields != ("value",):
            raise LayoutError(f"{contract}.{label} is not a struct")
        out["fields"] = {"value": [0, int(var["offset"]) if out["depth"] == 0 and "elementBytes" not in out else 0,
                                   int(t["numberOfBytes"])]}
    return out


def verifier_layout(layouts: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """The reduced layout of every variable in :data:`NEEDED`, from the committed storage layouts."""
    if layouts is None:
        from chain_client.build import load_storage_layouts

        layouts = load_storage_layouts()
    out: dict[str, dict[str, Any]] = {}
    for contract, variables in NEEDED.items():
        if contract not in layouts:
            raise LayoutError(f"no storage layout for {contract}: run `bledger build`")
        out[contract] = {label: reduce_variable(layouts[contract], contract, label, fields)
                         for label, fields in variables.items()}
    return out


# ------------------------------------------------------------------------------------------------ slot arithmetic

def word(value: int | bytes) -> bytes:
    """A mapping key or slot as 32 bytes (integers, enums and addresses left-padded; bytes32 as is)."""
    if isinstance(value, bytes):
        if len(value) == 32:
            return value
        if len(value) == 20:
            return value.rjust(32, b"\x00")
        raise ValueError("a mapping key must be 20 or 32 bytes")
    return value.to_bytes(32, "big")


def mapping_slot(base: int, key: int | bytes) -> int:
    return int.from_bytes(keccak(word(key) + word(base)), "big")


def array_data_slot(slot: int) -> int:
    return int.from_bytes(keccak(word(slot)), "big")


def extract(value: bytes, offset: int, size: int) -> int:
    """The ``size``-byte value packed at byte ``offset`` (from the right) of a 32-byte slot value."""
    return int.from_bytes(value[32 - offset - size:32 - offset], "big")
