"""The chain index: follows the suite's events into SQL tables (an index, rebuildable from the chain alone).

Events are stored as they came (``ix_event``) and projected into one table per kind of record. The indexer keeps
a cursor a configurable number of blocks below the head; if the hash of a block it indexed changed (a
reorganisation), it rolls back to the last block that still matches and projects the tables again.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from typing import Any, cast

from eth_utils import event_abi_to_log_topic
from hexbytes import HexBytes
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from web3.contract.contract import ContractEvent
from web3.exceptions import BlockNotFound

from api.chain import ChainContext
from api.models import (
    INDEX_TABLES,
    ChainEvent,
    IndexCursor,
    IndexedBlock,
    IxAllocation,
    IxBalance,
    IxBatch,
    IxBattery,
    IxBatteryEvent,
    IxClaim,
    IxEvaluation,
    IxFacility,
    IxInspection,
    IxLot,
    IxModel,
    IxParticipant,
    IxShipment,
    IxSite,
    IxStored,
    IxTransfer,
)
from api.problems import NODE_DOWN
from chain_client.suite import SUITE, contract_at
from chain_client.vocabulary import ClaimStatus, LotStatus, ParticipantStatus

log = logging.getLogger("api.indexer")
CURSOR = "suite"


def plain(value: Any) -> Any:
    """Event arguments as JSON-able values: bytes as 0x hex, structs as objects."""
    if isinstance(value, (bytes, HexBytes)):
        return "0x" + bytes(value).hex()
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


class Indexer:
    def __init__(self, ctx: ChainContext, engine: Engine, confirmations: int = 0, batch_blocks: int = 2_000) -> None:
        self.ctx = ctx
        self.engine = engine
        self.confirmations = confirmations
        self.batch_blocks = batch_blocks
        self.start = max(ctx.deployment.block_number - 1, 0)
        self._lock = threading.Lock()
        self._events: dict[tuple[str, bytes], tuple[str, ContractEvent]] = {}
        for name in SUITE:
            contract = contract_at(ctx.w3, name, ctx.deployment.contracts[name])
            for item in cast(list[Any], contract.abi):
                if item.get("type") == "event" and not item.get("anonymous"):
                    event = getattr(contract.events, item["name"])()
                    self._events[(str(contract.address), bytes(event_abi_to_log_topic(item)))] = (name, event)

    # cursor -----------------------------------------------------------------------------------------------------
    def cursor(self, db: Session) -> IndexCursor:
        found = db.get(IndexCursor, CURSOR)
        return found or IndexCursor(name=CURSOR, block_number=self.start, block_hash="")

    def _chain_hash(self, number: int) -> str | None:
        try:
            return "0x" + bytes(self.ctx.w3.eth.get_block(number)["hash"]).hex()  # type: ignore[arg-type]
        except BlockNotFound:
            return None

    # one round --------------------------------------------------------------------------------------------------
    def run_once(self) -> int:
        """Indexes what is new (below the confirmation depth); returns the number of events stored."""
        with self._lock, Session(self.engine) as db:
            cur = self.cursor(db)
            if cur.block_hash and self._chain_hash(cur.block_number) != cur.block_hash:
                cur = self._roll_back(db, cur)
            target = self.ctx.w3.eth.block_number - self.confirmations
            stored = 0
            while cur.block_number < target:
                upto = min(cur.block_number + self.batch_blocks, target)
                stored += self._index_range(db, cur.block_number + 1, upto)
                block_hash = self._chain_hash(upto) or ""
                db.merge(IndexedBlock(number=upto, hash=block_hash))
                cur = IndexCursor(name=CURSOR, block_number=upto, block_hash=block_hash)
                db.merge(cur)
                db.commit()
            return stored

    def _index_range(self, db: Session, first: int, last: int) -> int:
        logs = self.ctx.w3.eth.get_logs({"fromBlock": first, "toBlock": last,
                                         "address": sorted(self.ctx.suite_addresses)})  # type: ignore[typeddict-item]
        count = 0
        for entry in sorted(logs, key=lambda e: (e["blockNumber"], e["logIndex"])):
            if not entry["topics"]:
                continue
            key = (str(entry["address"]), bytes(entry["topics"][0]))
            known = self._events.get(key)
            if known is None:
                continue
            contract, event = known
            decoded = event.process_log(entry)
            row = ChainEvent(block_number=int(entry["blockNumber"]), log_index=int(entry["logIndex"]),
                             tx_hash="0x" + bytes(entry["transactionHash"]).hex(), contract=contract,
                             event=str(decoded["event"]), args=json.dumps(plain(dict(decoded["args"]))))
            db.merge(IndexedBlock(number=row.block_number, hash="0x" + bytes(entry["blockHash"]).hex()))
            db.add(row)
            project(db, row)
            count += 1
        return count

    def _roll_back(self, db: Session, cur: IndexCursor) -> IndexCursor:
        """Finds the last indexed block the chain still has, drops what came after and projects again."""
        fork = self.start
        for block in db.exec(select(IndexedBlock).order_by(col(IndexedBlock.number).desc())).all():
            if self._chain_hash(block.number) == block.hash:
                fork = block.number
                break
        log.warning("reorganisation: block %s changed; rolling back to %s", cur.block_number, fork)
        db.execute(delete(ChainEvent).where(col(ChainEvent.block_number) > fork))
        db.execute(delete(IndexedBlock).where(col(IndexedBlock.number) > fork))
        clear_projections(db)
        for row in db.exec(select(ChainEvent).order_by(col(ChainEvent.block_number), col(ChainEvent.log_index))):
            project(db, row)
        cur = IndexCursor(name=CURSOR, block_number=fork, block_hash=self._chain_hash(fork) or "")
        db.merge(cur)
        db.commit()
        return cur

    def rebuild(self) -> int:
        """Drops the index and builds it again from the chain alone."""
        with self._lock, Session(self.engine) as db:
            clear_projections(db)
            db.execute(delete(ChainEvent))
            db.execute(delete(IndexedBlock))
            db.execute(delete(IndexCursor))
            db.commit()
        return self.run_once()

    def run_forever(self, stop: threading.Event, interval: float) -> None:
        while not stop.is_set():
            try:
                self.run_once()
            except NODE_DOWN as exc:
                log.warning("node unreachable, indexing later: %s", exc)
            except Exception:  # noqa: BLE001 - the loop must survive; the error is logged
                log.exception("indexer round failed")
            stop.wait(interval)


def clear_projections(db: Session) -> None:
    for table in reversed(INDEX_TABLES):
        db.execute(delete(table))


def indexed_block(db: Session) -> int:
    found = db.get(IndexCursor, CURSOR)
    return int(found.block_number) if found else 0


# projections ------------------------------------------------------------------------------------------------------
def _balance(db: Session, lot_id: int, holder: str, delta: int) -> None:
    row = db.get(IxBalance, (lot_id, holder)) or IxBalance(lot_id=lot_id, holder=holder, grams=0)
    row.grams = int(row.grams) + delta
    db.add(row)


def summary(roles: int, suspended: int, revoked: int) -> int:
    """The registry's summary status (ParticipantRegistry._summary)."""
    held = roles & ~revoked
    if held & ~suspended:
        return int(ParticipantStatus.ACTIVE)
    if held:
        return int(ParticipantStatus.SUSPENDED)
    return int(ParticipantStatus.REVOKED if revoked else ParticipantStatus.ACTIVE)


def project(db: Session, ev: ChainEvent) -> None:
    """Applies one event to the index tables."""
    a: dict[str, Any] = json.loads(ev.args)
    name = ev.event
    db.flush()
    if name == "ParticipantRegistered":
        db.merge(IxParticipant(address=a["account"], roles=a["roles"], status=int(ParticipantStatus.ACTIVE),
                               authority=a["authority"], registered_block=ev.block_number))
    elif name in ("ParticipantRolesChanged", "ParticipantStatusChanged"):
        p = db.get(IxParticipant, a["account"])
        if p:
            if name == "ParticipantRolesChanged":
                p.roles = a["roles"]
            else:  # the status of the roles in ``roles`` changed (as the registry's suspend / reinstate / revoke)
                mask, status = int(a["roles"]), ParticipantStatus(a["status"])
                target = mask & ~int(p.revoked_roles)
                if status == ParticipantStatus.SUSPENDED:
                    p.suspended_roles = int(p.suspended_roles) | target
                elif status == ParticipantStatus.ACTIVE:
                    p.suspended_roles = int(p.suspended_roles) & ~target
                elif status == ParticipantStatus.REVOKED:
                    p.revoked_roles = int(p.revoked_roles) | target
                    p.suspended_roles = int(p.suspended_roles) & ~target
            p.status = summary(int(p.roles), int(p.suspended_roles), int(p.revoked_roles))
            db.add(p)
    elif name == "FacilityRegistered":
        db.merge(IxFacility(facility_id=a["facilityId"], operator=a["operator"], valid_from=a["validFrom"],
                            valid_until=a["validUntil"]))
    elif name in ("FacilityRenewed", "FacilityRevoked"):
        f = db.get(IxFacility, a["facilityId"])
        if f:
            if name == "FacilityRenewed":
                f.valid_until = a["validUntil"]
            else:
                f.revoked = True
            db.add(f)
    elif name == "LotApplied":
        app = a["application"]
        db.merge(IxLot(lot_id=a["lotId"], recycler=a["recycler"], material=app["material"],
                       feedstock=app["feedstock"], mass_grams=app["massGrams"], facility_id=app["facilityId"],
                       status=int(LotStatus.PENDING), applied_block=ev.block_number))
    elif name in ("LotCertified", "LotRejected", "LotRevoked"):
        lot = db.get(IxLot, a["lotId"])
        if lot:
            lot.status = int({"LotCertified": LotStatus.CERTIFIED, "LotRejected": LotStatus.REJECTED,
                              "LotRevoked": LotStatus.REVOKED}[name])
            db.add(lot)
        if name == "LotCertified":
            _balance(db, a["lotId"], a["recycler"], a["massGrams"])
    elif name == "QuantityTransferred":
        _balance(db, a["lotId"], a["from"], -a["grams"])
        _balance(db, a["lotId"], a["to"], a["grams"])
        db.add(IxTransfer(lot_id=a["lotId"], sender=a["from"], recipient=a["to"], grams=a["grams"],
                          shipment_ref=a["shipmentRef"], block_number=ev.block_number, tx_hash=ev.tx_hash))
    elif name == "QuantityConsumed":
        _balance(db, a["lotId"], a["holder"], -a["grams"])
        db.merge(IxAllocation(claim_id=a["claimId"], lot_id=a["lotId"], holder=a["holder"], grams=a["grams"]))
    elif name == "QuantityReleased":
        _balance(db, a["lotId"], a["holder"], a["grams"])
        alloc = db.get(IxAllocation, (a["claimId"], a["lotId"]))
        if alloc:
            alloc.released = True
            db.add(alloc)
    elif name == "ClaimOpened":
        r = a["request"]
        db.merge(IxClaim(claim_id=a["claimId"], claimant=a["claimant"], battery_model=a["batteryModel"],
                         plant=r["plant"], period_start=r["periodStart"], period_end=r["periodEnd"],
                         custody_model=r["custodyModel"], status=int(ClaimStatus.OPEN), opened_block=ev.block_number))
    elif name in ("ClaimAttested", "ClaimRejected"):
        c = db.get(IxClaim, a["claimId"])
        if c:
            c.status = int(ClaimStatus.ATTESTED if name == "ClaimAttested" else ClaimStatus.REJECTED)
            db.add(c)
    elif name == "ModelRegistered":
        db.merge(IxModel(model_id=a["modelId"], manufacturer=a["manufacturer"], category=a["category"],
                         data_hash=a["dataHash"]))
    elif name == "BatchAnchored":
        db.merge(IxBatch(batch_id=a["batchId"], model_id=a["modelId"], manufacturer=a["manufacturer"],
                         count=a["count"], root=a["root"]))
    elif name == "BatteryRegistered":
        db.merge(IxBattery(battery_id=a["batteryId"], model_id=a["modelId"], manufacturer=a["manufacturer"],
                           batch_id=a["batchId"], status=0, operator=a["manufacturer"], sequence=0))
    elif name == "BatteryEventRecorded":
        b = db.get(IxBattery, a["batteryId"])
        if b:
            b.status, b.operator, b.sequence = a["status"], a["operator"], a["sequence"]
            db.add(b)
        db.merge(IxBatteryEvent(battery_id=a["batteryId"], sequence=a["sequence"], status=a["status"],
                                actor=a["actor"], operator=a["operator"], link=a["link"],
                                evidence_hash=a["evidenceHash"], block_number=ev.block_number, tx_hash=ev.tx_hash))
    elif name == "BatteryEvaluated":
        db.add(IxEvaluation(battery_id=a["batteryId"], grade=a["grade"], policy_version=a["policyVersion"],
                            evaluator=a["evaluator"], device=a["device"], state_of_health_bps=a["stateOfHealthBps"],
                            measured_at=a["measuredAt"], block_number=ev.block_number))
    elif name == "InspectionRecorded":
        db.add(IxInspection(battery_id=a["batteryId"], kind=a["kind"], body=a["body"], passed=a["passed"],
                            valid_until=a["validUntil"], block_number=ev.block_number))
    elif name == "ShipmentLegRecorded":
        db.add(IxShipment(battery_id=a["batteryId"], transporter=a["transporter"], sender=a["from"],
                          recipient=a["to"], soc_bps=a["socBps"], packaging_class=a["packagingClass"],
                          block_number=ev.block_number))
    elif name == "SiteRegistered":
        db.merge(IxSite(site_id=a["siteId"], operator=a["operator"], capacity_wh=a["capacityWh"], stored_wh=0))
    elif name in ("BatteryStored", "BatteryReleased"):
        site = db.get(IxSite, a["siteId"])
        if site:
            site.stored_wh = a["storedWh"]
            db.add(site)
        if name == "BatteryStored":
            db.merge(IxStored(site_id=a["siteId"], battery_id=a["batteryId"], energy_wh=a["energyWh"]))
        else:
            stored = db.get(IxStored, (a["siteId"], a["batteryId"]))
            if stored:
                db.delete(stored)
