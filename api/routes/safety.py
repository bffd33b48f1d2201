"""Safety: inspections (inspection bodies), transport legs (transporters), storage sites (storage operators)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from api.acts import PREPARED, prepared
from api.deps import Address, Chain, Config, Db, Perms, require_role
from api.forwarding import PreparedRequest
from api.indexer import indexed_block
from api.models import IxInspection
from api.problems import responses
from api.schemas import ZERO32, AddressStr, Bytes32, Identifier, Page, Uint16, Uint64, b32, checksum, paginate
from chain_client.logistics import InspectionKind
from chain_client.passports import battery_id
from chain_client.vocabulary import BusinessRole, identifier

router = APIRouter(prefix="/v1/safety", tags=["safety"])
WRITE = responses(401, 403, 422, 503)


class RecordInspection(BaseModel):
    battery: Identifier
    kind: Literal["pre_distribution", "post_distribution"]
    passed: bool
    valid_until: Uint64
    findings_hash: Bytes32 = ZERO32


class ShipmentLeg(BaseModel):
    battery: Identifier
    sender: AddressStr
    recipient: AddressStr
    soc_bps: Uint16 = Field(le=10_000)
    packaging_class: int = Field(ge=0, le=255)
    evidence_hash: Bytes32 = ZERO32


class RegisterSite(BaseModel):
    site: Identifier
    capacity_wh: Uint64
    permit_hash: Bytes32 = ZERO32


class Intake(BaseModel):
    battery: Identifier
    energy_wh: Uint64


class InspectionOut(BaseModel):
    battery_id: str
    kind: str
    body: str
    passed: bool
    valid_until: int
    block_number: int


@router.post("/inspections", response_model=PreparedRequest, responses=WRITE, description=PREPARED)
def record_inspection(body: RecordInspection, perms: Perms, db: Db, chain: Chain, settings: Config
                      ) -> PreparedRequest:
    require_role(perms, BusinessRole.INSPECTION_BODY)
    bid, kind = battery_id(body.battery), InspectionKind[body.kind.upper()]
    return prepared(chain, db, settings, "safety.inspection", perms.address,
                    lambda ledger, s: ledger.inspections.record(s, bid, kind, body.passed, body.valid_until,
                                                                b32(body.findings_hash)))


@router.post("/shipments", response_model=PreparedRequest, responses=WRITE, description=PREPARED)
def record_shipment(body: ShipmentLeg, perms: Perms, db: Db, chain: Chain, settings: Config) -> PreparedRequest:
    require_role(perms, BusinessRole.TRANSPORTER)
    bid, a, b = battery_id(body.battery), checksum(body.sender), checksum(body.recipient)
    return prepared(chain, db, settings, "safety.shipment", perms.address,
                    lambda ledger, s: ledger.logistics.ship(s, bid, a, b, body.soc_bps, body.packaging_class,
                                                            b32(body.evidence_hash)))


@router.post("/sites", response_model=PreparedRequest, responses=WRITE, description=PREPARED)
def register_site(body: RegisterSite, perms: Perms, db: Db, chain: Chain, settings: Config) -> PreparedRequest:
    require_role(perms, BusinessRole.STORAGE_OPERATOR)
    sid = identifier(body.site)
    return prepared(chain, db, settings, "safety.register_site", perms.address,
                    lambda ledger, s: ledger.logistics.register_site(s, sid, body.capacity_wh, b32(body.permit_hash)))


@router.post("/sites/{site}/intake", response_model=PreparedRequest, responses=WRITE, description=PREPARED)
def intake(site: Annotated[str, Path(min_length=1, max_length=200, pattern=r"\S")], body: Intake, perms: Perms,
           db: Db, chain: Chain, settings: Config) -> PreparedRequest:
    require_role(perms, BusinessRole.STORAGE_OPERATOR)
    sid, bid = identifier(site), battery_id(body.battery)
    return prepared(chain, db, settings, "safety.intake", perms.address,
                    lambda ledger, s: ledger.logistics.intake(s, sid, bid, body.energy_wh))


@router.get("/inspections", response_model=Page[InspectionOut], responses=responses(400, 401, 422))
def inspections(address: Address, db: Db, battery: Annotated[str | None, Query(max_length=200)] = None,
                cursor: Annotated[str | None, Query(max_length=200)] = None,
                limit: Annotated[int, Query(ge=1, le=200)] = 50) -> Page[InspectionOut]:
    from sqlmodel import select

    stmt = select(IxInspection)
    if battery is not None and battery.strip():
        stmt = stmt.where(IxInspection.battery_id == "0x" + battery_id(battery).hex())
    rows, nxt = paginate(db, stmt, IxInspection.id, cursor, limit)
    items = [InspectionOut(battery_id=r.battery_id, kind=InspectionKind(r.kind).name.lower(), body=r.body,
                           passed=r.passed, valid_until=int(r.valid_until), block_number=int(r.block_number))
             for r in rows if isinstance(r, IxInspection)]
    return Page[InspectionOut](items=items, next_cursor=nxt, block=indexed_block(db))
