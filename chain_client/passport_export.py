"""Battery passport records in the Battery Pass / DIN DKE SPEC 99100 vocabulary, split by sharing tier.

On-chain there are only hashes and the rule-relevant fields; this assembles what the chain knows into the tiers a
portal serves: ``public`` (model-level), ``legitimateInterest`` (per-battery status and operator history) and
``authority`` (hashes of restricted documents such as test reports).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chain_client.passports import Passports
from chain_client.vocabulary import BatteryStatus

#: Which tier each exported field belongs to.
SHARING_TIERS: dict[str, str] = {
    "batteryPassportIdentifier": "public",
    "batteryModel": "public",
    "batteryCategory": "public",
    "manufacturerIdentification": "public",
    "modelDataHash": "public",
    "batteryStatus": "legitimateInterest",
    "economicOperator": "legitimateInterest",
    "lastUpdate": "legitimateInterest",
    "linkedPassport": "legitimateInterest",
    "vehicleIdentificationHash": "legitimateInterest",
    "recyclingCertificateLot": "legitimateInterest",
    "history": "legitimateInterest",
    "restrictedRecordHash": "authority",
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
    return datetime.fromtimestamp(ts, UTC).isoformat()


def export_passport(passports: Passports, identifier_text: str, battery_id: bytes) -> dict[str, Any]:
    b = passports.battery(battery_id)
    m = passports.model(b.model_id)
    link_field = {
        BatteryStatus.IN_SERVICE: "vehicleIdentificationHash",
        BatteryStatus.REMOVED: "vehicleIdentificationHash",
        BatteryStatus.RECYCLED: "recyclingCertificateLot",
    }.get(b.status, "linkedPassport")
    fields: dict[str, Any] = {
        "batteryPassportIdentifier": identifier_text,
        "batteryModel": "0x" + b.model_id.hex(),
        "batteryCategory": m.category.name if m.category.name != "INDUSTRIAL" else "Industrial",
        "manufacturerIdentification": m.manufacturer,
        "modelDataHash": "0x" + m.data_hash.hex(),
        "batteryStatus": _EU_STATUS.get(b.status, b.status.label),
        "economicOperator": b.operator,
        "lastUpdate": _iso(b.updated_at),
        "restrictedRecordHash": "0x" + b.record_hash.hex(),
        "history": [{"sequence": h.sequence, "lifeCycleStep": h.status.label, "actor": h.actor,
                     "economicOperator": h.operator, "evidenceHash": "0x" + h.evidence_hash.hex(),
                     "blockNumber": h.block_number} for h in passports.history(battery_id)],
    }
    if any(b.link):
        fields[link_field] = int.from_bytes(b.link, "big") if link_field == "recyclingCertificateLot" else "0x" + b.link.hex()
    tiers: dict[str, dict[str, Any]] = {"public": {}, "legitimateInterest": {}, "authority": {}}
    for key, value in fields.items():
        tiers[SHARING_TIERS[key]][key] = value
    tiers["legitimateInterest"]["lifeCycleStep"] = b.status.label
    return tiers
