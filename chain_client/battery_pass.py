"""A battery's passport in the Battery Pass data model 1.2.0: one JSON object per attribute group, by sharing tier.

Every value comes from where it lives:

- the chain (through the typed clients): status, operator, history, putting into service, links, the covering
  attested usage claim's recycled content (per metal, pre- and post-consumer shares in %) and its Article 8
  compliance, the signed evaluation reports (cycles, resistance increase, remaining energy, negative events), the
  state of charge of shipment legs;
- the model's data sheet (``chain_client.model_data``; checked against the hash on-chain);
- the battery's record (manufacturing date and plant, warranty; supplied at registration or import) and the
  operators' contact records (checked against their registration), see ``chain_client.passport_documents``.

Condition values nobody has measured yet are the beginning-of-life values the data sheet declares, with the
manufacturing date as their ``lastUpdate``; ``BatteryLedger.sources`` says where each value came from. Units are the
DIN DKE SPEC 99100's: capacity Ah, energy kWh, voltage V, power W, resistance Ω, shares and fades %, mass kg.

Sharing tiers (Regulation (EU) 2023/1542, Annex XIII): ``public`` (point 1), ``legitimateInterest`` (points 2 and 4:
detailed composition, dismantling, spare parts, safety measures, state of health and status, history) and
``authority`` (point 3: test results; the vehicle link and its salt). A tier sees its own fields and those of the
tiers before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chain_client import batterypass
from chain_client.battery_import import tree_of_file
from chain_client.claims import Compliance
from chain_client.errors import LedgerError
from chain_client.evaluations import RecordedReport
from chain_client.merkle import MerkleTree
from chain_client.merkle import verify as verify_proof
from chain_client.model_data import BatteryModelData
from chain_client.passport_documents import BatteryRecord, PassportDocuments, SecondLifeRecord
from chain_client.passport_ids import check_identifier, to_urn
from chain_client.passports import Battery, HistoryEntry, battery_id
from chain_client.rules import FaultFlag
from chain_client.suite import Ledger
from chain_client.vocabulary import BatteryCategory, BatteryStatus, ClaimStatus, Material, identifier

TIERS = ("public", "legitimateInterest", "authority")

#: Fields of the schema groups that are not public (Annex XIII points 2-4); every other field is public.
RESTRICTED: dict[str, dict[str, str]] = {
    "GeneralProductInformation": {"batteryStatus": "legitimateInterest"},  # Annex XIII 4(c)
    "Circularity": {"dismantlingAndRemovalInformation": "legitimateInterest",  # 2(c)
                    "sparePartSources": "legitimateInterest",  # 2(b)
                    "safetyMeasures": "legitimateInterest"},  # 2(d); the extinguishing agent is public below
    "MaterialComposition": {"batteryMaterials": "legitimateInterest"},  # 2(a): detailed composition
    "PerformanceAndDurability": {"batteryCondition": "legitimateInterest"},  # 4: state of health
    "Labeling": {"resultOfTestReport": "authority"},  # 3: results of test reports
}

#: Battery Pass ``batteryCategory`` values; SLI and portable batteries get no battery passport (Art. 77(1)).
SCHEMA_CATEGORY = {BatteryCategory.EV: "ev", BatteryCategory.INDUSTRIAL: "industrial", BatteryCategory.LMT: "lmt",
                   BatteryCategory.STATIONARY: "stationary"}
EU_STATUS = {
    BatteryStatus.ORIGINAL: "Original", BatteryStatus.IN_SERVICE: "Original", BatteryStatus.REMOVED: "Original",
    BatteryStatus.REUSED: "Reused", BatteryStatus.REPURPOSED: "Repurposed",
    BatteryStatus.REMANUFACTURED: "Remanufactured", BatteryStatus.WASTE: "Waste", BatteryStatus.RECYCLED: "Waste",
}
SECOND_LIFE = (BatteryStatus.REUSED, BatteryStatus.REPURPOSED, BatteryStatus.REMANUFACTURED)
RECYCLED_MATERIAL = {Material.COBALT: "Cobalt", Material.NICKEL: "Nickel", Material.LITHIUM: "Lithium",
                     Material.LEAD: "Lead"}


def iso(ts: int | datetime) -> str:
    """ISO 8601 date-time in UTC with a ``Z`` (what the schemas' date-time patterns accept)."""
    moment = datetime.fromtimestamp(ts, UTC) if isinstance(ts, int) else ts.astimezone(UTC)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _pct(bps: int) -> float:
    return bps / 100


@dataclass
class BatteryPassExport:
    """The seven groups (full, as the authority tier sees them) and the ledger extension, with each field's tier."""

    identifier: str
    groups: dict[str, dict[str, Any]]
    ledger: dict[str, dict[str, Any]]  # tier -> the ledger's own facts (not Battery Pass fields)
    sources: dict[str, str] = field(default_factory=dict)

    def tier_of(self, group: str, name: str) -> str:
        return RESTRICTED.get(group, {}).get(name, "public")

    def view(self, tier: str) -> dict[str, dict[str, Any]]:
        """What ``tier`` may see: each group restricted to its fields, and ``BatteryLedger`` (the extension)."""
        if tier not in TIERS:
            raise ValueError(f"unknown tier {tier!r}: use {', '.join(TIERS)}")
        allowed = TIERS[: TIERS.index(tier) + 1]
        out = {g: {k: v for k, v in obj.items() if self.tier_of(g, k) in allowed} for g, obj in self.groups.items()}
        extension: dict[str, Any] = {}
        for t in allowed:
            extension.update(self.ledger[t])
        if tier != "public":
            extension["sources"] = self.sources
        out["BatteryLedger"] = extension
        return out

    def schema_errors(self, tier: str = "authority") -> list[str]:
        """Every error of the ``tier`` view against the 1.2.0 schemas (restricted to what the tier holds)."""
        errors: list[str] = []
        view = self.view(tier)
        for group in batterypass.GROUPS:
            fields = {k for k in batterypass.schema(group)["properties"] if self.tier_of(group, k) in
                      TIERS[: TIERS.index(tier) + 1]}
            against = None if tier == "authority" else batterypass.restricted_schema(group, fields)
            errors += batterypass.validate(group, view[group], against)
        return errors

    def files(self, tier: str = "authority") -> dict[str, dict[str, Any]]:
        """File name (the group's schema name, ``.json``) -> content."""
        view = self.view(tier)
        named = {f"{batterypass.GROUPS[g]}.json": view[g] for g in batterypass.GROUPS}
        named["BatteryLedger.json"] = view["BatteryLedger"]
        return named


@dataclass
class _Subject:
    """The battery as the export sees it: its chain record, or for a batch member never materialized, the one
    the batch implies (status Original, operated by the batch's manufacturer)."""

    identifier: str
    battery_id: bytes
    record: Battery
    history: list[HistoryEntry]
    batch_id: int  # 0 for a battery registered on its own
    registered_at: int
    record_hash: bytes  # of the latest restricted record: the latest history entry's evidence, or the batch's data


class PassportExporter:
    """Assembles :class:`BatteryPassExport` from a deployed suite and a data folder's documents."""

    def __init__(self, ledger: Ledger, documents: PassportDocuments) -> None:
        self.ledger = ledger
        self.docs = documents
        self._block_times: dict[int, int] = {}

    def export(self, identifier_text: str) -> BatteryPassExport:
        ident = check_identifier(identifier_text)
        subject = self._subject(ident)
        b = subject.record
        sources: dict[str, str] = {}
        second_life = bool(subject.history) and subject.history[0].status in SECOND_LIFE
        second = self.docs.second_life(subject.battery_id) if second_life else None
        chain_model = self.ledger.passports.model(b.model_id)
        sheet = self._sheet(b.model_id, chain_model.data_hash)
        if sheet.category != chain_model.category:
            raise LedgerError(f"data sheet of {sheet.batteryModel} says {sheet.batteryCategory}, the chain says "
                              f"{chain_model.category.name}")
        sources["model"] = "model data sheet (hash registered on-chain with the model)"
        record = self._second_life_record(subject, second) if second_life else self._record(subject)
        category = SCHEMA_CATEGORY.get(sheet.category)
        if category is None:
            raise LedgerError(f"{ident}: {sheet.batteryCategory} batteries get no battery passport (Regulation (EU) "
                              "2023/1542 Art. 77(1) covers LMT, EV and industrial batteries above 2 kWh)")
        if record.manufacturingPlace not in sheet.manufacturingPlaces:
            raise LedgerError(f"{ident}: manufacturing place {record.manufacturingPlace!r} is not a plant of the "
                              f"data sheet of {sheet.batteryModel} ({', '.join(sheet.manufacturingPlaces)})")
        operator = self._contact(b.operator)
        in_service = self._put_into_service(subject)
        sources["puttingIntoService"] = "chain" if in_service else "chain: registration (not yet in service)"
        general = {
            "productIdentifier": ident,
            "batteryPassportIdentifier": to_urn(ident),
            "batteryCategory": category,
            # the 1.2.0 e-mail pattern is defective (matches no real address): the optional e-mail stays out
            "manufacturerInformation": {k: v for k, v in sheet.manufacturerInformation.items() if k != "emailAddress"},
            "manufacturingDate": iso(record.manufacturingDate),
            "batteryStatus": EU_STATUS[b.status],
            "batteryMass": sheet.batteryMass,
            "manufacturingPlace": sheet.manufacturingPlaces[record.manufacturingPlace],
            "operatorInformation": operator,
            "puttingIntoService": iso(in_service or subject.registered_at),
            "warrentyPeriod": f"--{record.warrantyUntil.month:02d}",
        }
        coverage = self._coverage(subject)
        recycled = []
        if coverage is not None and coverage[2]:
            for material, share in self.ledger.claims.shares(coverage[0]).items():
                if material in RECYCLED_MATERIAL:
                    recycled.append({"recycledMaterial": RECYCLED_MATERIAL[material],
                                     "preConsumerShare": _pct(share.pre_consumer_bps),
                                     "postConsumerShare": _pct(share.post_consumer_bps)})
        sources["recycledContent"] = (
            "chain: no attested usage claim covers this battery" if coverage is None else
            f"chain: attested usage claim #{coverage[0]} covers it" if coverage[2] else
            f"chain: usage claim #{coverage[0]} does not cover it (tainted): no recycled content stated")
        circularity = {**sheet.circularity, "recycledContent": recycled}
        condition, condition_sources = self._condition(subject, sheet, record)
        sources.update(condition_sources)
        groups = {
            "GeneralProductInformation": general,
            "Circularity": circularity,
            "MaterialComposition": sheet.materialComposition,
            "PerformanceAndDurability": {"batteryTechicalProperties": sheet.batteryTechicalProperties,
                                         "batteryCondition": condition},
            "CarbonFootprint": sheet.carbonFootprint,
            "Labeling": sheet.labeling,
            "SupplyChainDueDiligence": sheet.supplyChainDueDiligence,
        }
        return BatteryPassExport(ident, groups, self._extension(subject, sheet, record, coverage, in_service, second),
                                 sources)

    # the battery -----------------------------------------------------------------------------------------------
    def _subject(self, ident: str) -> _Subject:
        p = self.ledger.passports
        bid = battery_id(ident)
        b = p.battery(bid)
        if b.status != BatteryStatus.NONE:
            history = p.history(bid)
            registered = self._block_time(history[0].block_number) if history else b.updated_at
            latest = history[-1].evidence_hash if history else p.record_hash(bid, b.sequence)  # no logs: it says so
            return _Subject(ident, bid, b, history, p.registered_batch(bid), registered, latest)
        indexed = self.docs.index.batch_of(bid)
        if indexed is None:
            raise LedgerError(f"{ident} is not registered: it has no record on-chain and is in no batch of "
                              f"{self.docs.data / 'index.sqlite'}")
        tree, _ = _tree_of(indexed.data_file)
        if tree.root != indexed.root or not p.is_in_batch(indexed.batch_id, bid, tree.proof(bid)):
            raise LedgerError(f"{ident}: batch #{indexed.batch_id} on-chain does not contain it (index and chain "
                              "disagree)")
        batch = p.batch(indexed.batch_id)
        implied = Battery(bid, batch.manufacturer, BatteryStatus.ORIGINAL, False, 0, batch.anchored_at,
                          batch.model_id, b"\x00" * 32)
        return _Subject(ident, bid, implied, [], indexed.batch_id, batch.anchored_at, batch.data_hash)

    def _sheet(self, model_id: bytes, data_hash: bytes) -> BatteryModelData:
        sheet = self.docs.model_sheet(model_id)
        if sheet is None:
            raise LedgerError(f"no data sheet for model 0x{model_id.hex()} in {self.docs.data / 'models'} (publish "
                              "it with `bledger battery model`)")
        if sheet.data_hash() != data_hash:
            raise LedgerError(f"the data sheet of {sheet.batteryModel} does not match the hash registered on-chain")
        return sheet

    def _record(self, subject: _Subject) -> BatteryRecord:
        record = self.docs.battery_record(subject.battery_id)
        if record is None:
            raise LedgerError(f"{subject.identifier}: no battery record (manufacturing date, place, warranty) in "
                              f"{self.docs.data / 'index.sqlite'}: supply it at registration or import")
        if subject.batch_id == 0 and subject.history and subject.history[0].evidence_hash not in (
                record.record_hash(), b"\x00" * 32):
            raise LedgerError(f"{subject.identifier}: its battery record does not match the hash registered on-chain")
        return record

    def _second_life_record(self, subject: _Subject, second: SecondLifeRecord | None) -> BatteryRecord:
        if second is None:
            raise LedgerError(f"{subject.identifier}: no second-life record in {self.docs.data / 'second-life'} "
                              "(give --plant and --warranty-until when opening the second life)")
        if subject.history[0].evidence_hash != second.evidence_hash():
            raise LedgerError(f"{subject.identifier}: its second-life record does not match the hash on-chain")
        return second.record

    def _contact(self, address: str) -> dict[str, Any]:
        contact = self.docs.contact(address)
        if contact is None:
            raise LedgerError(f"no contact record for operator {address} in {self.docs.data / 'participants'}")
        registered = self.ledger.registry.participant(address).profile_hash
        if contact.profile_hash() != registered:
            raise LedgerError(f"the contact record of {address} does not match its registration on-chain")
        return contact.as_schema()

    def _block_time(self, block_number: int) -> int:
        if block_number not in self._block_times:
            self._block_times[block_number] = int(self.ledger.w3.eth.get_block(block_number)["timestamp"])
        return self._block_times[block_number]

    def _put_into_service(self, subject: _Subject) -> int | None:
        """When the battery went into service: into a vehicle, or for a second life its first installation."""
        previous: HistoryEntry | None = None
        for h in subject.history:
            if h.status == BatteryStatus.IN_SERVICE:
                return self._block_time(h.block_number)
            if (previous is not None and h.status in SECOND_LIFE and previous.status == h.status
                    and h.operator == previous.operator and h.link != previous.link):
                return self._block_time(h.block_number)  # recordInstallation
            previous = h
        return None

    def _original_of(self, subject: _Subject) -> bytes:
        """The battery whose production a usage claim covers: for a second-life passport, its predecessor."""
        if subject.history and subject.history[0].status in SECOND_LIFE:
            return subject.history[0].link
        return subject.battery_id

    def _coverage(self, subject: _Subject) -> tuple[int, list[bytes], bool] | None:
        """The latest attested usage claim of the battery's model whose batteries root holds it (the battery's
        predecessor for a second-life passport), its proof, and whether the chain says the claim covers it
        (``UsageAttestations.covers``: false once a consumed lot was revoked)."""
        original = self._original_of(subject)
        model_id = self.ledger.passports.battery(original).model_id if original != subject.battery_id else \
            subject.record.model_id
        claims = self.ledger.claims
        for claim_id in range(claims.claim_count(), 0, -1):
            claim = claims.claim(claim_id)
            if claim.status != ClaimStatus.ATTESTED or claim.battery_model != model_id:
                continue
            batch = self.docs.index.batch_by_root(claim.batteries_root)
            if batch is None:
                continue
            tree, _ = _tree_of(batch.data_file)
            if original not in tree or tree.root != claim.batteries_root:
                continue
            proof = tree.proof(original)
            if subject.history:
                return claim_id, proof, claims.covers(claim_id, original, proof)
            # never materialized: ``covers`` reads the battery's own record, which it does not have yet. The same
            # test from the chain's data: attested (above), untainted, the model of the batch that holds it
            # (proved on-chain in _subject), and the proof against the claim's root.
            tainted, _ = claims.is_tainted(claim_id)
            return claim_id, proof, not tainted and verify_proof(claim.batteries_root, original, proof)
        return None

    # dynamic data -------------------------------------------------------------------------------------------
    def _condition(self, subject: _Subject, sheet: BatteryModelData,
                   record: BatteryRecord) -> tuple[dict[str, Any], dict[str, str]]:
        tp = sheet.batteryTechicalProperties
        bol = iso(record.manufacturingDate)
        c: dict[str, Any] = {
            "energyThroughput": 0.0,
            "capacityThroughput": {"capacityThroughputValue": 0.0, "lastUpdate": bol},
            "numberOfFullCycles": {"numberOfFullCyclesValue": 0, "lastUpdate": bol},
            "stateOfCertifiedEnergy": {"stateOfCertifiedEnergyValue": 100.0, "lastUpdate": bol},
            "capacityFade": {"capacityFadeValue": 0.0, "lastUpdate": bol},
            "remainingEnergy": {"remainingEnergyalue": tp["ratedEnergy"], "lastUpdate": bol},  # sic, the schema's name
            "remainingCapacity": {"remainingCapacityValue": tp["ratedCapacity"], "lastUpdate": bol},
            "negativeEvents": [],
            "temperatureInformation": {"timeExtremeHighTemp": 0.0, "timeExtremeLowTemp": 0.0,
                                       "timeExtremeHighTempCharging": 0.0, "timeExtremeLowTempCharging": 0.0,
                                       "lastUpdate": bol},
            "remainingPowerCapability": [{"remainingPowerCapabilityValue": {**p, "rPCLastUpdated": bol},
                                          "lastUpdate": bol} for p in tp["originalPowerCapability"]],
            "powerFade": 0.0,
            "roundTripEfficiencyFade": 0.0,
            "evolutionOfSelfDischarge": {"evolutionOfSelfDischargeEntityValue": 0.0},
            "currentSelfDischargingRate": {"currentSelfDischargingRateEntity": tp["initialSelfDischarge"],
                                           "lastUpdate": bol},
            "internalResistanceIncrease": [{"internalResistanceIncreaseValue": 0.0, "lastUpdate": bol,
                                            "batteryComponent": "pack"}],
            "roundTripEfficiencyat50PerCentCycleLife": sheet.roundTripEfficiencyat50PerCentCycleLife,
            "remainingRoundTripEnergyEfficiency": {"remainingRoundTripEnergyEfficiencyValue": tp["roundtripEfficiency"],
                                                   "lastUpdate": bol},
            "stateOfCharge": {"stateOfChargeValue": sheet.stateOfChargeAtDelivery, "lastUpdate": bol},
        }
        sources = {f"batteryCondition.{k}": "data sheet: beginning of life (nothing measured since)" for k in c}
        sources["batteryCondition.stateOfCharge"] = "data sheet: state of charge at delivery"
        reports = self._reports(subject)
        for r in reports:
            for flag in FaultFlag:
                if r.report.fault_flags & int(flag):
                    c["negativeEvents"].append({"negativeEvent": str(flag.name), "lastUpdate": iso(r.report.measured_at)})
        if reports:
            latest = reports[-1]
            m, when = latest.report, iso(latest.report.measured_at)
            energy_kwh = m.remaining_capacity_wh / 1000
            capacity_ah = round(m.remaining_capacity_wh / tp["nominalVoltage"], 3)
            c["numberOfFullCycles"] = {"numberOfFullCyclesValue": m.cycle_count, "lastUpdate": when}
            c["internalResistanceIncrease"] = [{"internalResistanceIncreaseValue": _pct(m.resistance_increase_bps),
                                                "lastUpdate": when, "batteryComponent": "pack"}]
            c["remainingEnergy"] = {"remainingEnergyalue": energy_kwh, "lastUpdate": when}
            c["remainingCapacity"] = {"remainingCapacityValue": capacity_ah, "lastUpdate": when}
            c["stateOfCertifiedEnergy"] = {"stateOfCertifiedEnergyValue": _pct(m.state_of_health_bps),
                                           "lastUpdate": when}
            c["capacityFade"] = {"capacityFadeValue": round(100 - capacity_ah / tp["ratedCapacity"] * 100, 2),
                                 "lastUpdate": when}
            signed = f"chain: evaluation report {_hex(latest.digest)} signed by device {latest.device}"
            for key in ("numberOfFullCycles", "internalResistanceIncrease", "remainingEnergy", "stateOfCertifiedEnergy"):
                sources[f"batteryCondition.{key}"] = signed
            sources["batteryCondition.remainingCapacity"] = signed + " (energy / nominal voltage)"
            sources["batteryCondition.capacityFade"] = signed + " (1 - remaining / rated capacity)"
        if reports:
            sources["batteryCondition.negativeEvents"] = "chain: fault flags of the signed evaluation reports"
        legs = self.ledger.logistics.shipments(subject.battery_id) if subject.history else []
        if legs:
            c["stateOfCharge"] = {"stateOfChargeValue": _pct(legs[-1].soc_bps), "lastUpdate": iso(legs[-1].recorded_at)}
            sources["batteryCondition.stateOfCharge"] = "chain: state of charge of the latest shipment leg"
        return c, sources

    def _reports(self, subject: _Subject) -> list[RecordedReport]:
        if not subject.history:
            return []
        return self.ledger.evaluations.recorded_reports(subject.battery_id, self.ledger.forwarder)

    # the ledger's own facts --------------------------------------------------------------------------------
    def _extension(self, subject: _Subject, sheet: BatteryModelData, record: BatteryRecord,
                   coverage: tuple[int, list[bytes], bool] | None, in_service: int | None,
                   second: SecondLifeRecord | None) -> dict[str, dict[str, Any]]:
        b = subject.record
        p = self.ledger.passports
        model = p.model(b.model_id)
        public: dict[str, Any] = {
            "batteryId": _hex(subject.battery_id),
            "batteryModel": sheet.batteryModel,
            "modelDataHash": _hex(sheet.data_hash()),
            "manufacturerAccount": model.manufacturer,
            "registeredInBatch": subject.batch_id or None,
            "materializedOnChain": bool(subject.history),
            "passportClosed": b.closed,
            "puttingIntoServiceKnown": in_service is not None,
            "warrantyUntil": record.warrantyUntil.isoformat(),
            "extinguishingAgent": sheet.circularity["safetyMeasures"]["extinguishingAgent"],
            "carbonFootprintStudyHash": sheet.carbonFootprintStudyHash,
            "recycledContentClaim": self._claim_summary(coverage),
        }
        if subject.history and subject.history[0].status in SECOND_LIFE:
            public["article8Exemption"] = ("Art. 8(4): placed on the market before being "
                                           f"{subject.history[0].status.label.lower()}")
        vehicle = next((h.link for h in subject.history if h.status == BatteryStatus.IN_SERVICE), None)
        legit: dict[str, Any] = {
            "lifeCycleStep": b.status.label,
            "operatorAccount": b.operator,
            "lastUpdate": iso(b.updated_at),
            # the vehicle link (salted VIN hash) is authority data: history entries carrying it do not show it
            "history": [{"sequence": h.sequence, "lifeCycleStep": h.status.label, "actor": h.actor,
                         "operatorAccount": h.operator,
                         "link": "vehicle (authority tier)" if h.link == vehicle else _hex(h.link),
                         "evidenceHash": _hex(h.evidence_hash), "blockNumber": h.block_number,
                         "recordedAt": iso(self._block_time(h.block_number))} for h in subject.history],
        }
        if subject.history and subject.history[0].status in SECOND_LIFE:
            predecessor = second.predecessor if second else self.docs.index.identifier_of(subject.history[0].link)
            legit["predecessor"] = {"batteryId": _hex(subject.history[0].link)}
            if predecessor:
                legit["predecessor"].update({"productIdentifier": predecessor,
                                             "batteryPassportIdentifier": to_urn(predecessor)})
        authority: dict[str, Any] = {"restrictedRecordHash": _hex(subject.record_hash)}
        for h in subject.history:
            if h.status in SECOND_LIFE and h.link != b"\x00" * 32 and subject.history[0].status not in SECOND_LIFE \
                    and b.closed and h.status == b.status:
                legit["successor"] = {"batteryId": _hex(h.link)}
            if h.status == BatteryStatus.IN_SERVICE and "vehicleIdentificationHash" not in authority:
                authority["vehicleIdentificationHash"] = _hex(h.link)
                salt = self.docs.vin_salt(subject.battery_id)
                authority["vehicleIdentificationSalt"] = _hex(salt) if salt else None
            if h.status == BatteryStatus.RECYCLED:
                legit["recyclingCertificateLot"] = int.from_bytes(h.link, "big")
        return {"public": public, "legitimateInterest": legit, "authority": authority}

    def _claim_summary(self, coverage: tuple[int, list[bytes], bool] | None) -> dict[str, Any] | None:
        """The covering claim as the chain reports it: status, custody model, taint, shares, Article 8 compliance."""
        if coverage is None:
            return None
        claims = self.ledger.claims
        claim_id = coverage[0]
        claim = claims.claim(claim_id)
        tainted, lot = claims.is_tainted(claim_id)
        shares = claims.shares(claim_id)
        return {
            "claimId": claim_id,
            "status": claim.status.name.lower(),
            "custodyModel": claim.custody_model.name.lower(),
            "tainted": tainted,
            "revokedLot": lot if tainted else None,
            "coversOnChain": coverage[2],
            "proof": [_hex(x) for x in coverage[1]],
            "recycledContent": {m.symbol: {"sharePercent": _pct(s.share_bps),
                                           "preConsumerPercent": _pct(s.pre_consumer_bps),
                                           "postConsumerPercent": _pct(s.post_consumer_bps)}
                                for m, s in shares.items()},
            "article8": [article8_result(claims.compliance(claim_id, year), shares)
                         for year in claims.milestone_years()],
        }


def article8_result(compliance: Compliance, shares: dict[Material, Any]) -> dict[str, Any]:
    """One Article 8 milestone as the chain judged the claim: ``notInScope`` (Article 8 does not cover the model at
    that milestone), ``custodyModelDoesNotCount``, ``meets`` or ``below`` (a tainted claim never meets), with the
    minimum of each metal the batteries contain."""
    if not compliance.in_scope:
        result = "notInScope"
    elif not compliance.custody_counts:
        result = "custodyModelDoesNotCount"
    else:
        result = "meets" if compliance.meets else "below"
    return {"year": compliance.year, "result": result, "attested": compliance.attested,
            "tainted": compliance.tainted, "inScope": compliance.in_scope,
            "custodyModelCounts": compliance.custody_counts,
            "minimumPercent": {m.symbol: _pct(compliance.minimum_bps[m]) for m in shares
                               if compliance.minimum_bps.get(m)}}


def _tree_of(path: Path) -> tuple[MerkleTree, list[str]]:
    return tree_of_file(path)


def export_battery_pass(ledger: Ledger, documents: PassportDocuments, identifier_text: str) -> BatteryPassExport:
    """A battery's Battery Pass 1.2.0 export (see :class:`PassportExporter`)."""
    return PassportExporter(ledger, documents).export(identifier_text)

