"""Battery life cycle: models, batteries, custody, removal; lists from the index."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlmodel import col, select

from api.acts import PREPARED, prepared
from api.deps import Address, Chain, Config, Db, Perms, require_role, require_writer
from api.forwarding import PreparedRequest
from api.indexer import indexed_block
from api.models import IxBattery, IxBatteryEvent
from api.problems import ApiProblem, responses
from api.schemas import ZERO32, AddressStr, Bytes32, Identifier, Page, Uint64, b32, checksum, paginate
from chain_client.passports import ModelSpec, battery_id
from chain_client.vocabulary import BatteryCategory, BatteryStatus, BusinessRole, Material, identifier

router = APIRouter(prefix="/v1/lifecycle", tags=["lifecycle"])
WRITE = responses(401, 403, 422, 503)
IdPath = Annotated[str, Path(min_length=1, max_length=200, pattern=r"\S")]
StatusName = Literal["original", "in_service", "removed", "reused", "repurposed", "remanufactured", "waste",
                     "recycled"]


class RegisterModel(BaseModel):
    model: Identifier
    category: Literal["ev", "industrial", "lmt", "stationary"]
    metals: list[Literal["lithium", "nickel", "cobalt", "manganese", "copper", "lead"]] = Field(min_length=1)
    rated_energy_wh: Uint64
    external_storage_only: bool = False
    data_hash: Bytes32 = ZERO32


class RegisterBattery(BaseModel):
    identifier: Identifier
    model: Identifier
    record_hash: Bytes32 = ZERO32


class CustodyTransfer(BaseModel):
    to: AddressStr
    evidence_hash: Bytes32 = ZERO32


class Evidence(BaseModel):
    evidence_hash: Bytes32 = ZERO32


class HistoryOut(BaseModel):
    sequence: int
    status: str
    actor: str
    operator: str
    block_number: int
    tx_hash: str


class BatteryOut(BaseModel):
    battery_id: str
    model_id: str
    status: str
    operator: str
    history: list[HistoryOut] | None = None


@router.post("/models", response_model=PreparedRequest, responses=WRITE, description=PREPARED)
def register_model(body: RegisterModel, perms: Perms, db: Db, chain: Chain, settings: Config) -> PreparedRequest:
    require_role(perms, BusinessRole.CELL_MAKER, BusinessRole.EV_MAKER)
    spec = ModelSpec(BatteryCategory[body.category.upper()], frozenset(Material[m.upper()] for m in body.metals),
                     body.rated_energy_wh, body.external_storage_only, b32(body.data_hash))
    name = body.model.strip()
    return prepared(chain, db, settings, "lifecycle.register_model", perms.address,
                    lambda ledger, s: ledger.passports.register_model(s, name, spec))


@router.post("/batteries", response_model=PreparedRequest, responses=WRITE, description=PREPARED)
def register_battery(body: RegisterBattery, perms: Perms, db: Db, chain: Chain, settings: Config
                     ) -> PreparedRequest:
    require_role(perms, BusinessRole.CELL_MAKER, BusinessRole.EV_MAKER)
    ident, mid = body.identifier.strip(), identifier(body.model)
    return prepared(chain, db, settings, "lifecycle.register_battery", perms.address,
                    lambda ledger, s: ledger.passports.register(s, ident, mid, b32(body.record_hash)))


@router.post("/batteries/{battery}/transfer", response_model=PreparedRequest, responses=WRITE, description=PREPARED)
def transfer(battery: IdPath, body: CustodyTransfer, perms: Perms, db: Db, chain: Chain, settings: Config
             ) -> PreparedRequest:
    require_writer(perms)
    bid, to = battery_id(battery), checksum(body.to)
    return prepared(chain, db, settings, "lifecycle.transfer", perms.address,
                    lambda ledger, s: ledger.passports.transfer(s, bid, to, b32(body.evidence_hash)))


@router.post("/batteries/{battery}/removed", response_model=PreparedRequest, responses=WRITE, description=PREPARED)
def mark_removed(battery: IdPath, body: Evidence, perms: Perms, db: Db, chain: Chain, settings: Config
                 ) -> PreparedRequest:
    require_writer(perms)
    bid = battery_id(battery)
    return prepared(chain, db, settings, "lifecycle.mark_removed", perms.address,
                    lambda ledger, s: ledger.passports.mark_removed(s, bid, b32(body.evidence_hash)))


class InService(BaseModel):
    #: keccak256(salt || VIN): the salt stays off-chain in the authority tier (see chain_client/passport_documents.py)
    vin_hash: Bytes32
    evidence_hash: Bytes32 = ZERO32


class SecondLife(BaseModel):
    successor: Identifier
    status: Literal["reused", "repurposed", "remanufactured"]
    successor_model: Identifier | None = None
    evidence_hash: Bytes32 = ZERO32


class Recycled(BaseModel):
    lot_id: Annotated[int, Field(ge=1, le=2**64 - 1)]
    evidence_hash: Bytes32 = ZERO32


class Installation(BaseModel):
    site_hash: Bytes32
    evidence_hash: Bytes32 = ZERO32


@router.post("/batteries/{battery}/in-service", response_model=PreparedRequest, responses=WRITE,
             description=PREPARED)
def put_in_service(battery: IdPath, body: InService, perms: Perms, db: Db, chain: Chain, settings: Config
                   ) -> PreparedRequest:
    require_writer(perms)
    bid = battery_id(battery)
    return prepared(chain, db, settings, "lifecycle.put_in_service", perms.address,
                    lambda ledger, s: ledger.passports.put_in_service(s, bid, b32(body.vin_hash),
                                                                      b32(body.evidence_hash)))


@router.post("/batteries/{battery}/second-life", response_model=PreparedRequest, responses=WRITE,
             description=PREPARED)
def start_second_life(battery: IdPath, body: SecondLife, perms: Perms, db: Db, chain: Chain, settings: Config
                      ) -> PreparedRequest:
    require_writer(perms)
    bid, successor = battery_id(battery), body.successor.strip()
    model = identifier(body.successor_model) if body.successor_model else b"\x00" * 32
    status = BatteryStatus[body.status.upper()]
    return prepared(chain, db, settings, "lifecycle.start_second_life", perms.address,
                    lambda ledger, s: ledger.passports.start_second_life(s, bid, successor, status,
                                                                         b32(body.evidence_hash), model))


@router.post("/batteries/{battery}/waste", response_model=PreparedRequest, responses=WRITE, description=PREPARED)
def mark_waste(battery: IdPath, body: Evidence, perms: Perms, db: Db, chain: Chain, settings: Config
               ) -> PreparedRequest:
    require_writer(perms)
    bid = battery_id(battery)
    return prepared(chain, db, settings, "lifecycle.mark_waste", perms.address,
                    lambda ledger, s: ledger.passports.mark_waste(s, bid, b32(body.evidence_hash)))


@router.post("/batteries/{battery}/recycled", response_model=PreparedRequest, responses=WRITE, description=PREPARED)
def mark_recycled(battery: IdPath, body: Recycled, perms: Perms, db: Db, chain: Chain, settings: Config
                  ) -> PreparedRequest:
    require_writer(perms)
    bid = battery_id(battery)
    return prepared(chain, db, settings, "lifecycle.mark_recycled", perms.address,
                    lambda ledger, s: ledger.passports.mark_recycled(s, bid, body.lot_id, b32(body.evidence_hash)))


@router.post("/batteries/{battery}/installation", response_model=PreparedRequest, responses=WRITE,
             description=PREPARED)
def record_installation(battery: IdPath, body: Installation, perms: Perms, db: Db, chain: Chain, settings: Config
                        ) -> PreparedRequest:
    require_writer(perms)
    bid = battery_id(battery)
    return prepared(chain, db, settings, "lifecycle.record_installation", perms.address,
                    lambda ledger, s: ledger.passports.record_installation(s, bid, b32(body.site_hash),
                                                                          b32(body.evidence_hash)))


def history(db: Db, bid: str) -> list[HistoryOut]:
    rows = db.exec(select(IxBatteryEvent).where(IxBatteryEvent.battery_id == bid)
                   .order_by(col(IxBatteryEvent.sequence))).all()
    return [HistoryOut(sequence=int(r.sequence), status=BatteryStatus(r.status).label, actor=r.actor,
                       operator=r.operator, block_number=int(r.block_number), tx_hash=r.tx_hash) for r in rows]


@router.get("/batteries/{battery}", response_model=BatteryOut, responses=responses(401, 404, 422, 503))
def battery(battery: IdPath, address: Address, chain: Chain, db: Db) -> BatteryOut:
    """A battery by identifier: its state on the chain now and its history from the index."""
    bid = battery_id(battery)
    b = chain.ledger.passports.battery(bid)
    if b.status == BatteryStatus.NONE:
        raise ApiProblem(404, "unknown-battery", f"no battery {battery.strip()!r}")
    return BatteryOut(battery_id="0x" + bid.hex(), model_id="0x" + b.model_id.hex(), status=b.status.label,
                      operator=b.operator, history=history(db, "0x" + bid.hex()))


@router.get("/batteries", response_model=Page[BatteryOut], responses=responses(400, 401, 422))
def batteries(address: Address, db: Db, model: Annotated[str | None, Query(max_length=200)] = None,
              status: StatusName | None = None,
              operator: Annotated[str | None, Query(pattern=r"^0x[0-9a-fA-F]{40}$")] = None,
              cursor: Annotated[str | None, Query(max_length=200)] = None,
              limit: Annotated[int, Query(ge=1, le=200)] = 50) -> Page[BatteryOut]:
    """Batteries from the index (filters: model identifier, status, operator)."""
    stmt = select(IxBattery)
    if model is not None and model.strip():
        stmt = stmt.where(IxBattery.model_id == "0x" + identifier(model).hex())
    if status is not None:
        stmt = stmt.where(IxBattery.status == int(BatteryStatus[status.upper()]))
    if operator is not None:
        stmt = stmt.where(IxBattery.operator == checksum(operator))
    rows, nxt = paginate(db, stmt, IxBattery.battery_id, cursor, limit)
    items = [BatteryOut(battery_id=r.battery_id, model_id=r.model_id, status=BatteryStatus(r.status).label,
                        operator=r.operator) for r in rows if isinstance(r, IxBattery)]
    return Page[BatteryOut](items=items, next_cursor=nxt, block=indexed_block(db))
