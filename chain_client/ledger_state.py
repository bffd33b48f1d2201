"""The on-chain state a recycled-content verdict rests on, read slot by slot, and the verdict recomputed from it.

One function reads the state (:func:`read_state`) through a :class:`SlotReader`: the prover's reader asks a node
(and records which slots it read), the offline verifier's reader checks each value against its EIP-1186 storage
proof. Both run the same code, so they read the same slots in the same order. :func:`compute_facts` then redoes what
``UsageAttestations.metalShares``, ``isTainted``, ``compliance`` and ``covers`` compute on-chain, from raw values
only. ``web/verify/src/verifier.js`` is the same logic in JavaScript; the test vectors check they agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from eth_hash.auto import keccak

from chain_client.storage_slots import array_data_slot, extract, mapping_slot

# Names of the contracts' enums, in their declaration order (tests check them against chain_client.vocabulary).
MATERIALS = ("Li", "Ni", "Co", "Mn", "Cu", "Pb")
FEEDSTOCKS = ("pre-consumer", "post-consumer")
LOT_STATUSES = ("None", "Pending", "Certified", "Rejected", "Revoked")
CLAIM_STATUSES = ("None", "Open", "Attested", "Rejected")
BATTERY_STATUSES = ("None", "Original", "InService", "Removed", "Reused", "Repurposed", "Remanufactured", "Waste",
                    "Recycled")
CATEGORIES = ("EV", "Industrial", "LMT", "Stationary", "SLI", "Portable")
CUSTODY_MODELS = ("IdentityPreserved", "Segregated", "ControlledBlending", "MassBalance", "BookAndClaim")
BPS = 10_000
#: Bounds that keep a hostile bundle from making the verifier loop for long.
MAX_ALLOCATIONS = 64
MAX_YEARS = 16

PASSPORTS, CLAIMS, CERTIFICATES, TARGETS = (
    "BatteryPassports", "UsageAttestations", "ProductionCertificates", "RecycledContentTargets")


class VerificationFailure(Exception):
    """The first thing that does not hold, in words a person can act on."""


class SlotReader(Protocol):
    def read(self, contract: str, slot: int, what: str) -> bytes:
        """The 32-byte value of ``slot`` of ``contract`` (``what`` names it for error messages)."""
        ...


def hex32(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


def hex20(value: int) -> str:
    return "0x" + value.to_bytes(20, "big").hex()


def battery_key(identifier: str) -> bytes:
    """``keccak256`` of the canonical identifier string, as the contracts key batteries."""
    return keccak(identifier.encode())


def _leaf(value: bytes) -> bytes:
    return keccak(keccak(value))


def merkle_root(value: bytes, proof: list[bytes]) -> bytes:
    """OpenZeppelin ``MerkleProof.processProof`` over a double-hashed ``bytes32`` leaf (sorted pairs)."""
    node = _leaf(value)
    for sibling in proof:
        node = keccak(node + sibling) if node < sibling else keccak(sibling + node)
    return node


class StateView:
    """Reads structs and values named as in the reduced layout (:func:`chain_client.storage_slots.verifier_layout`)."""

    def __init__(self, layout: dict[str, dict[str, Any]], reader: SlotReader) -> None:
        self.layout = layout
        self.reader = reader

    def _var(self, contract: str, label: str) -> dict[str, Any]:
        try:
            return self.layout[contract][label]
        except KeyError:
            raise VerificationFailure(f"the trust file's layout has no {contract}.{label}") from None

    def _base(self, var: dict[str, Any], keys: list[int | bytes]) -> int:
        if len(keys) != var["depth"]:
            raise VerificationFailure("the trust file's layout does not match the variables the verifier reads")
        base = int(var["slot"])
        for key in keys:
            base = mapping_slot(base, key)
        return base

    def struct(self, contract: str, label: str, keys: list[int | bytes], what: str,
               base: int | None = None) -> dict[str, Any]:
        var = self._var(contract, label)
        start = self._base(var, keys) if base is None else base
        cache: dict[int, bytes] = {}
        out: dict[str, Any] = {}
        for name in sorted(var["fields"]):  # by name: the order of the trust file's keys does not matter
            spec = var["fields"][name]
            rel, offset, size = int(spec[0]), int(spec[1]), int(spec[2])
            if len(spec) == 4:  # a static array of small values, packed from the start of its slot
                values = []
                for i in range(int(spec[3])):
                    slot = start + rel + (i * size) // 32
                    if slot not in cache:
                        cache[slot] = self.reader.read(contract, slot, f"{what}.{name}")
                    values.append(extract(cache[slot], (i * size) % 32, size))
                out[name] = values
                continue
            slot = start + rel
            if slot not in cache:
                cache[slot] = self.reader.read(contract, slot, f"{what}.{name}")
            out[name] = extract(cache[slot], offset, size)
        return out

    def value(self, contract: str, label: str, keys: list[int | bytes], what: str) -> int:
        return int(self.struct(contract, label, keys, what)["value"])

    def array_length(self, contract: str, label: str, keys: list[int | bytes], what: str) -> tuple[int, int]:
        """(length, data slot) of a dynamic array."""
        slot = self._base(self._var(contract, label), keys)
        length = int.from_bytes(self.reader.read(contract, slot, f"{what}.length"), "big")
        return length, array_data_slot(slot)

    def array_values(self, contract: str, label: str, what: str, limit: int) -> list[int]:
        var = self._var(contract, label)
        length, data = self.array_length(contract, label, [], what)
        if length > limit:
            raise VerificationFailure(f"{what} has {length} entries, more than the verifier accepts ({limit})")
        size = int(var["elementBytes"])
        out = []
        for i in range(length):
            raw = self.reader.read(contract, data + (i * size) // 32, f"{what}[{i}]")
            out.append(extract(raw, (i * size) % 32, size))
        return out


@dataclass
class LedgerState:
    """Raw values read from storage (integers; ``None`` where the bundle's kind does not need them)."""

    claim_id: int
    claim: dict[str, Any]
    allocations: list[dict[str, Any]]
    content: list[int]  # declared grams per material
    lots: dict[int, dict[str, Any]]
    model: dict[str, Any]
    years: list[int]
    milestones: dict[int, dict[str, Any]]
    scope_from: int
    industrial_threshold_wh: int
    custody_counts: bool
    battery_identifier: str | None = None
    battery: dict[str, Any] | None = None
    batch_id: int | None = None
    batch: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def read_state(view: StateView, claim_id: int, battery_identifier: str | None = None,
               batch_id: int | None = None) -> LedgerState:
    """Reads, in a fixed order, every value the verdict on ``claim_id`` (and the battery, if given) needs. A battery
    without its own record yet is a member of a batch (``batch_id``) that the verdict proves it into."""
    battery = batch = None
    if battery_identifier is not None:
        battery = view.struct(PASSPORTS, "_batteries", [battery_key(battery_identifier)],
                              f"battery {battery_identifier}")
        if battery["status"] == 0 and batch_id is None:
            raise VerificationFailure(f"battery {battery_identifier} has no passport record on chain (and no batch "
                                      "is named)")
        if battery["status"] != 0 and batch_id is not None:
            raise VerificationFailure(f"battery {battery_identifier} has its own record: a bundle names no batch "
                                      "for it")
        if battery["status"] != 0:  # the record stores its model's number; the model id is one slot away
            battery["modelId"] = view.value(PASSPORTS, "_modelIds", [int(battery["model"])],
                                            f"battery {battery_identifier} model")
        if batch_id is not None:
            batch = view.struct(PASSPORTS, "_batches", [batch_id], f"batch #{batch_id}")
            if batch["manufacturer"] == 0:
                raise VerificationFailure(f"batch #{batch_id} does not exist on chain")
    claim = view.struct(CLAIMS, "_claims", [claim_id], f"claim #{claim_id}")
    if claim["status"] == 0:
        raise VerificationFailure(f"claim #{claim_id} does not exist on chain")
    count = int(claim["allocationCount"])
    if count > MAX_ALLOCATIONS:
        raise VerificationFailure(f"claim #{claim_id} allocations has {count} entries, more than the verifier accepts "
                                  f"({MAX_ALLOCATIONS})")
    allocations = [view.struct(CLAIMS, "_allocations", [claim_id, i], f"claim #{claim_id} allocations[{i}]")
                   for i in range(count)]
    content = [int(g) for g in view.struct(CLAIMS, "_content", [claim_id], f"claim #{claim_id} content")["contentGrams"]]
    lots: dict[int, dict[str, Any]] = {}
    for a in allocations:
        lot_id = int(a["lotId"])
        if lot_id not in lots:
            lots[lot_id] = view.struct(CERTIFICATES, "_lots", [lot_id], f"lot #{lot_id}")
    model_id = int(claim["batteryModel"]).to_bytes(32, "big")
    model = view.struct(PASSPORTS, "_models", [model_id], f"model {hex32(claim['batteryModel'])}")
    years = view.array_values(TARGETS, "_years", "EU milestone years", MAX_YEARS)
    milestones = {y: view.struct(TARGETS, "_milestones", [y], f"EU milestone {y}") for y in years}
    category = int(model["category"])
    scope_from = view.value(TARGETS, "_scopeFrom", [category], "scope of category")
    threshold = view.value(TARGETS, "_industrialThresholdWh", [], "industrial threshold")
    counts = view.value(TARGETS, "_custodyCounts", [int(claim["custodyModel"])], "custody model counts")
    return LedgerState(claim_id, claim, allocations, content, lots, model, years, milestones, scope_from, threshold,
                       bool(counts), battery_identifier, battery, batch_id, batch)


def _name(names: tuple[str, ...], index: int) -> str:
    return names[index] if 0 <= index < len(names) else f"unknown({index})"


def iso_time(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def compute_facts(state: LedgerState, batteries_proof: list[bytes] | None = None,
                  batch_proof: list[bytes] | None = None) -> dict[str, Any]:
    """The verdict's facts, recomputed from raw values as the contract computes them. JSON-ready: grams as decimal
    strings (they may exceed 2^53), hashes and addresses as 0x-hex."""
    c = state.claim
    claim_status = _name(CLAIM_STATUSES, int(c["status"]))
    tainted_lot = 0
    for a in state.allocations:
        if int(state.lots[int(a["lotId"])]["status"]) == 4 and tainted_lot == 0:
            tainted_lot = int(a["lotId"])
    tainted = tainted_lot != 0
    attested = claim_status == "Attested"
    model = state.model
    metals_mask = int(model["metals"])
    shares: dict[str, Any] = {}
    share_bps = [0] * len(MATERIALS)
    recycled = {(m, feedstock): 0 for m in range(len(MATERIALS)) for feedstock in (0, 1)}
    for a in state.allocations:  # the recycled grams per metal are the claim's allocations, split by feedstock
        kind = (int(a["material"]), int(a["feedstock"]))
        if kind not in recycled:
            raise VerificationFailure(f"claim #{state.claim_id} has an allocation of an unknown material or feedstock")
        recycled[kind] += int(a["grams"])
    for m, grams in enumerate(state.content):
        if grams == 0:
            continue
        pre, post = recycled[(m, 0)], recycled[(m, 1)]
        total = (pre + post) * BPS // grams
        pre_bps = pre * BPS // grams
        share_bps[m] = total
        shares[MATERIALS[m]] = {"contentGrams": str(grams), "preConsumerGrams": str(pre),
                                "postConsumerGrams": str(post), "shareBps": total, "preConsumerBps": pre_bps,
                                "postConsumerBps": total - pre_bps}
    category = int(model["category"])
    eu: dict[str, Any] = {}
    for year in state.years:
        milestone = state.milestones[year]
        from_year = state.scope_from
        in_scope = from_year != 0 and year >= from_year
        if in_scope and _name(CATEGORIES, category) in ("Industrial", "Stationary"):
            in_scope = int(model["ratedEnergyWh"]) > state.industrial_threshold_wh and not model["externalStorageOnly"]
        meets = attested and not tainted and in_scope
        per_metal: dict[str, Any] = {}
        for m in range(len(MATERIALS)):
            share = share_bps[m] if state.custody_counts else 0
            minimum = int(milestone["minimumBps"][m])
            contained = metals_mask & (1 << m) != 0
            if contained and share < minimum:
                meets = False
            if contained:
                per_metal[MATERIALS[m]] = {"shareBps": share, "minimumBps": minimum, "meets": share >= minimum}
        eu[str(year)] = {"inScope": in_scope, "meets": meets, "effectiveFrom": int(milestone["effectiveFrom"]),
                         "metals": per_metal}
    lots = [{"lotId": lot_id, "material": _name(MATERIALS, int(lot["material"])),
             "feedstock": _name(FEEDSTOCKS, int(lot["feedstock"])), "status": _name(LOT_STATUSES, int(lot["status"])),
             "recycler": hex20(int(lot["recycler"])), "decidedAt": int(lot["decidedAt"])}
            for lot_id, lot in state.lots.items()]
    facts: dict[str, Any] = {
        "claim": {
            "id": state.claim_id, "status": claim_status, "claimant": hex20(int(c["claimant"])),
            "custodyModel": _name(CUSTODY_MODELS, int(c["custodyModel"])), "custodyCounts": state.custody_counts,
            "periodStart": int(c["periodStart"]), "periodEnd": int(c["periodEnd"]),
            "decidedAt": int(c["decidedAt"]), "plant": hex32(int(c["plant"])),
            "evidenceHash": hex32(int(c["evidenceHash"])), "batteriesRoot": hex32(int(c["batteriesRoot"])),
            "tainted": tainted, "revokedLot": tainted_lot,
        },
        "model": {
            "id": hex32(int(c["batteryModel"])), "manufacturer": hex20(int(model["manufacturer"])),
            "category": _name(CATEGORIES, category), "ratedEnergyWh": int(model["ratedEnergyWh"]),
            "externalStorageOnly": bool(model["externalStorageOnly"]),
            "metals": [MATERIALS[m] for m in range(len(MATERIALS)) if metals_mask & (1 << m)],
            "dataHash": hex32(int(model["dataHash"])),
        },
        "allocations": [{"lotId": int(a["lotId"]), "grams": str(int(a["grams"])),
                         "material": _name(MATERIALS, int(a["material"])),
                         "feedstock": _name(FEEDSTOCKS, int(a["feedstock"]))} for a in state.allocations],
        "lots": lots,
        "shares": shares,
        "eu": eu,
    }
    if state.battery is not None:
        key = battery_key(state.battery_identifier or "")
        b, batch = state.battery, state.batch
        in_batch = None
        if batch is not None:  # anchored in a batch, no own record yet: the batch's model and maker
            in_batch = batch_proof is not None and merkle_root(key, batch_proof) == int(batch["root"]).to_bytes(32, "big")
            b = {"status": 1, "closed": 0, "operator": batch["manufacturer"], "sequence": 0,
                 "updatedAt": batch["anchoredAt"], "modelId": batch["modelId"]}
        root = int(c["batteriesRoot"]).to_bytes(32, "big")
        same_model = int(b["modelId"]) == int(c["batteryModel"])
        in_root = (root != b"\x00" * 32 and batteries_proof is not None and merkle_root(key, batteries_proof) == root)
        facts["battery"] = {
            "identifier": state.battery_identifier, "id": "0x" + key.hex(),
            "status": _name(BATTERY_STATUSES, int(b["status"])), "closed": bool(b["closed"]),
            "operator": hex20(int(b["operator"])), "sequence": int(b["sequence"]),
            "updatedAt": int(b["updatedAt"]), "modelId": hex32(int(b["modelId"])),
            "record": batch is None, "batch": state.batch_id, "inBatch": in_batch,
            "sameModel": same_model, "inClaimRoot": in_root,
            "covered": attested and not tainted and same_model and in_root and in_batch is not False,
        }
    return facts


def judgement(facts: dict[str, Any]) -> str | None:
    """Why the claim (and battery) does not hold, or None when it does. Compliance below a minimum is a result, not
    a failure."""
    claim = facts["claim"]
    if claim["status"] != "Attested":
        return f"claim #{claim['id']} is not attested (status {claim['status']})"
    if claim["tainted"]:
        return f"claim #{claim['id']} is tainted: lot #{claim['revokedLot']} was revoked"
    battery = facts.get("battery")
    if battery is not None:
        if battery["inBatch"] is False:
            return f"battery {battery['identifier']} is not in batch #{battery['batch']}"
        if not battery["sameModel"]:
            return (f"battery {battery['identifier']} is of model {battery['modelId']}, not the claim's model "
                    f"{facts['model']['id']}")
        if not battery["inClaimRoot"]:
            return f"battery {battery['identifier']} is not in the batteries root of claim #{claim['id']}"
    return None
