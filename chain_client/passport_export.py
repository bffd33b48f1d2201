"""What the chain alone says about a battery, split by sharing tier (Battery Pass 1.2.0 names where one exists).

On-chain there are only hashes and the rule-relevant fields. The full Battery Pass 1.2.0 export (seven attribute
groups, with the model's data sheet and the battery's records) is :mod:`chain_client.battery_pass`; this is the
chain's part of it: ``public`` (category, model, manufacturer's account), ``legitimateInterest`` (status, operator,
history, links) and ``authority`` (the vehicle link and restricted record hashes).

Names: ``manufacturerAccount`` and ``operatorAccount`` are ledger addresses; the Battery Pass
``manufacturerInformation`` / ``operatorInformation`` (company, postal address, identifier) come from documents.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chain_client.errors import LedgerError
from chain_client.passports import Passports
from chain_client.vocabulary import BatteryCategory, BatteryStatus

#: Which tier each exported field belongs to.
SHARING_TIERS: dict[str, str] = {
    "batteryPassportIdentifier": "public",
    "batteryModel": "public",
    "batteryCategory": "public",
    "manufacturerAccount": "public",
    "modelDataHash": "public",
    "batteryStatus": "legitimateInterest",
    "lifeCycleStep": "legitimateInterest",
    "operatorAccount": "legitimateInterest",
    "lastUpdate": "legitimateInterest",
    "linkedPassport": "legitimateInterest",
    "recyclingCertificateLot": "legitimateInterest",
    "history": "legitimateInterest",
    "vehicleIdentificationHash": "authority",
    "restrictedRecordHash": "authority",
}

#: The Battery Pass 1.2.0 ``batteryCategory`` values; SLI and portable batteries have no passport category.
CATEGORY_NAMES: dict[BatteryCategory, str] = {
    BatteryCategory.EV: "ev", BatteryCategory.INDUSTRIAL: "industrial", BatteryCategory.LMT: "lmt",
    BatteryCategory.STATIONARY: "stationary", BatteryCategory.SLI: "sli", BatteryCategory.PORTABLE: "portable",
}

_EU_STATUS = {
    BatteryStatus.ORIGINAL: "Original",
    BatteryStatus.IN_SERVICE: "Original",
    BatteryStatus.REMOVED: "Original",
    BatteryStatus.REUSED: "Reused",
    BatteryStatus.REPURPOSED: "Repurposed",
    BatteryStatus.REMANUFACTURED: "Remanufactured",
    BatteryStatus.WASTE: "Waste",
    BatteryStatus.RECYCLED: "Waste",
}


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def export_passport(passports: Passports, identifier_text: str, battery_id: bytes) -> dict[str, Any]:
    """The chain's record of a battery by tier. A battery with no record of its own (one anchored in a batch and
    never materialized) is refused: its passport is assembled from the batch by ``battery_pass``."""
    b = passports.battery(battery_id)
    if b.status == BatteryStatus.NONE:
        raise LedgerError(f"{identifier_text} has no record of its own on-chain (never registered, or anchored in a "
                          "batch and not materialized): export it with `bledger battery export`, which uses the "
                          "batch's data")
    m = passports.model(b.model_id)
    history = passports.history(battery_id)
    fields: dict[str, Any] = {
        "batteryPassportIdentifier": identifier_text,
        "batteryModel": "0x" + b.model_id.hex(),
        "batteryCategory": CATEGORY_NAMES[m.category],
        "manufacturerAccount": m.manufacturer,
        "modelDataHash": "0x" + m.data_hash.hex(),
        "batteryStatus": _EU_STATUS[b.status],
        "lifeCycleStep": b.status.label,
        "operatorAccount": b.operator,
        "lastUpdate": _iso(b.updated_at),
        "restrictedRecordHash": "0x" + (history[-1].evidence_hash if history  # the latest entry's
                                        else passports.record_hash(battery_id, b.sequence)).hex(),
        "history": [{"sequence": h.sequence, "lifeCycleStep": h.status.label, "actor": h.actor,
                     "operatorAccount": h.operator, "evidenceHash": "0x" + h.evidence_hash.hex(),
                     "blockNumber": h.block_number} for h in history],
    }
    if any(b.link):
        if b.status in (BatteryStatus.IN_SERVICE, BatteryStatus.REMOVED):
            fields["vehicleIdentificationHash"] = "0x" + b.link.hex()
        elif b.status == BatteryStatus.RECYCLED:
            fields["recyclingCertificateLot"] = int.from_bytes(b.link, "big")
        elif b.status in (BatteryStatus.REUSED, BatteryStatus.REPURPOSED, BatteryStatus.REMANUFACTURED):
            fields["linkedPassport"] = "0x" + b.link.hex()
    tiers: dict[str, dict[str, Any]] = {"public": {}, "legitimateInterest": {}, "authority": {}}
    for key, value in fields.items():
        tiers[SHARING_TIERS[key]][key] = value
    return tiers
