"""Production certificates (recyclers, MoE, holders) and usage claims (cell makers, MOTIE)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlmodel import col, select

from api.acts import PREPARED, prepared
from api.deps import Address, Chain, Config, Db, Perms, require_authority, require_role, require_writer
from api.forwarding import PreparedRequest
from api.indexer import indexed_block
from api.models import IxBalance, IxClaim, IxLot
from api.problems import ApiProblem, responses
from api.schemas import ZERO32, AddressStr, Bytes32, Identifier, LotId, Page, Uint64, Uint128, b32, checksum, paginate
from chain_client.certificates import LotApplication
from chain_client.claims import Allocation, ClaimRequest
from chain_client.vocabulary import (
    BusinessRole,
    ClaimStatus,
    CustodyModel,
    Feedstock,
    LotStatus,
    Material,
    identifier,
    short_string,
)

router = APIRouter(prefix="/v1/certification", tags=["certification"])
WRITE = responses(401, 403, 422, 503)
MaterialName = Literal["lithium", "nickel", "cobalt", "manganese", "copper", "lead"]
LotStatusName = Literal["pending", "certified", "rejected", "revoked"]
ClaimStatusName = Literal["open", "attested", "rejected"]
CustodyName = Literal["identity_preserved", "segregated", "controlled_blending", "mass_balance", "book_and_claim"]
LotPath = Annotated[int, Path(ge=1, le=2**63 - 1)]


class LotApply(BaseModel):
    material: MaterialName
    feedstock: Literal["pre_consumer", "post_consumer"]
    mass_grams: Uint128 = Field(gt=0)
    chemical_form: str = Field(min_length=1, max_length=32, pattern=r"^[\x21-\x7e][\x20-\x7e]*$")
    facility: Identifier
    period_start: Uint64
    period_end: Uint64
    source_root: Bytes32 = ZERO32
    evidence_hash: Bytes32 = ZERO32


class Decision(BaseModel):
    reason_hash: Bytes32 = ZERO32


class LotTransfer(BaseModel):
    to: AddressStr
    grams: Uint128 = Field(gt=0)
    shipment_ref: Identifier


class AllocationIn(BaseModel):
    lot_id: LotId
    grams: Uint128


class ClaimOpen(BaseModel):
    battery_model: Identifier
    plant: Identifier
    period_start: Uint64
    period_end: Uint64
    custody_model: CustodyName
    content_grams: dict[MaterialName, Uint128]
    allocations: list[AllocationIn] = Field(max_length=64)
    batteries_root: Bytes32 = ZERO32
    evidence_hash: Bytes32 = ZERO32


class LotOut(BaseModel):
    lot_id: int
    recycler: str
    material: str
    feedstock: str
    status: str
    mass_grams: int
    facility_id: str | None = None
    holder_grams: int | None = None


class ClaimOut(BaseModel):
    claim_id: int
    claimant: str
    status: str
    battery_model: str
    plant: str
    period_start: int
    period_end: int
    custody_model: str


# writes --------------------------------------------------------------------------------------------------------
@router.post("/lots", response_model=PreparedRequest, responses=WRITE, description=PREPARED)
def apply_for_lot(body: LotApply, perms: Perms, db: Db, chain: Chain, settings: Config) -> PreparedRequest:
    """A recycler applies for the production certificate of a recovered lot."""
    require_role(perms, BusinessRole.RECYCLER)
    app = LotApplication(Material[body.material.upper()], Feedstock[body.feedstock.upper()], body.mass_grams,
                         short_string(body.chemical_form), identifier(body.facility), body.period_start,
                         body.period_end, b32(body.source_root), b32(body.evidence_hash))
    return prepared(chain, db, settings, "certification.apply", perms.address,
                    lambda ledger, s: ledger.certificates.apply(s, app))


@router.post("/lots/{lot_id}/transfers", response_model=PreparedRequest, responses=WRITE, description=PREPARED)
def transfer(lot_id: LotPath, body: LotTransfer, perms: Perms, db: Db, chain: Chain, settings: Config
             ) -> PreparedRequest:
    """A holder moves certified grams to another registered holder with a shipment."""
    require_writer(perms)
    to, ref = checksum(body.to), identifier(body.shipment_ref)
    return prepared(chain, db, settings, "certification.transfer", perms.address,
                    lambda ledger, s: ledger.certificates.transfer(s, lot_id, to, body.grams, ref))


@router.post("/lots/{lot_id}/{decision}", response_model=PreparedRequest, responses=WRITE, description=PREPARED)
def decide_lot(lot_id: LotPath, decision: Literal["certify", "reject", "revoke"], body: Decision, perms: Perms,
               db: Db, chain: Chain, settings: Config) -> PreparedRequest:
    """The Ministry of Environment certifies, rejects or revokes a lot."""
    require_authority(perms, "moe")
    reason = b32(body.reason_hash)

    def act(ledger: object, s: object) -> object:
        c = ledger.certificates  # type: ignore[attr-defined]
        return c.certify(s, lot_id) if decision == "certify" else getattr(c, decision)(s, lot_id, reason)

    return prepared(chain, db, settings, f"certification.{decision}", perms.address, act)


@router.post("/claims", response_model=PreparedRequest, responses=WRITE, description=PREPARED)
def open_claim(body: ClaimOpen, perms: Perms, db: Db, chain: Chain, settings: Config) -> PreparedRequest:
    """A cell maker opens a usage claim (battery model x plant x period), consuming certified quantities."""
    require_role(perms, BusinessRole.CELL_MAKER)
    request = ClaimRequest(identifier(body.battery_model), identifier(body.plant), body.period_start,
                           body.period_end, CustodyModel[body.custody_model.upper()],
                           {Material[k.upper()]: v for k, v in body.content_grams.items()},
                           [Allocation(a.lot_id, a.grams) for a in body.allocations], b32(body.batteries_root),
                           b32(body.evidence_hash))
    return prepared(chain, db, settings, "certification.open_claim", perms.address,
                    lambda ledger, s: ledger.claims.open(s, request))


@router.post("/claims/{claim_id}/{decision}", response_model=PreparedRequest, responses=WRITE,
             description=PREPARED)
def decide_claim(claim_id: LotPath, decision: Literal["attest", "reject"], body: Decision, perms: Perms, db: Db,
                 chain: Chain, settings: Config) -> PreparedRequest:
    """MOTIE attests or rejects a usage claim."""
    require_authority(perms, "motie")
    reason = b32(body.reason_hash)

    def act(ledger: object, s: object) -> object:
        c = ledger.claims  # type: ignore[attr-defined]
        return c.attest(s, claim_id) if decision == "attest" else c.reject(s, claim_id, reason)

    return prepared(chain, db, settings, f"certification.{decision}_claim", perms.address, act)


# reads ---------------------------------------------------------------------------------------------------------
def lot_out(r: IxLot, holder_grams: int | None = None) -> LotOut:
    return LotOut(lot_id=int(r.lot_id), recycler=r.recycler, material=Material(r.material).name.lower(),
                  feedstock=Feedstock(r.feedstock).name.lower(), status=LotStatus(r.status).name.lower(),
                  mass_grams=int(r.mass_grams), facility_id=r.facility_id, holder_grams=holder_grams)


@router.get("/lots", response_model=Page[LotOut], responses=responses(400, 401, 422))
def lots(address: Address, db: Db, holder: Annotated[str | None, Query(pattern=r"^0x[0-9a-fA-F]{40}$")] = None,
         recycler: Annotated[str | None, Query(pattern=r"^0x[0-9a-fA-F]{40}$")] = None,
         material: MaterialName | None = None, status: LotStatusName | None = None,
         cursor: Annotated[str | None, Query(max_length=200)] = None,
         limit: Annotated[int, Query(ge=1, le=200)] = 50) -> Page[LotOut]:
    """Lots from the index (filters: holder with a positive balance, recycler, material, status)."""
    stmt = select(IxLot)
    if holder is not None:
        held = select(IxBalance.lot_id).where(IxBalance.holder == checksum(holder), col(IxBalance.grams) > 0)
        stmt = stmt.where(col(IxLot.lot_id).in_(held))
    if recycler is not None:
        stmt = stmt.where(IxLot.recycler == checksum(recycler))
    if material is not None:
        stmt = stmt.where(IxLot.material == int(Material[material.upper()]))
    if status is not None:
        stmt = stmt.where(IxLot.status == int(LotStatus[status.upper()]))
    rows, nxt = paginate(db, stmt, IxLot.lot_id, cursor, limit)
    items = []
    for r in rows:
        assert isinstance(r, IxLot)
        grams = None
        if holder is not None:
            bal = db.get(IxBalance, (r.lot_id, checksum(holder)))
            grams = int(bal.grams) if bal else 0
        items.append(lot_out(r, grams))
    return Page[LotOut](items=items, next_cursor=nxt, block=indexed_block(db))


@router.get("/lots/{lot_id}", response_model=LotOut, responses=responses(401, 404, 422, 503))
def lot(lot_id: LotPath, address: Address, chain: Chain) -> LotOut:
    """A lot as the chain holds it now, with the signed-in account's balance."""
    found = chain.ledger.certificates.lot(lot_id)
    if found.status == LotStatus.NONE:
        raise ApiProblem(404, "unknown-lot", f"no lot {lot_id}")
    return LotOut(lot_id=lot_id, recycler=found.recycler, material=found.material.name.lower(),
                  feedstock=found.feedstock.name.lower(), status=found.status.name.lower(),
                  mass_grams=found.mass_grams, holder_grams=chain.ledger.certificates.balance(lot_id, address))


@router.get("/claims", response_model=Page[ClaimOut], responses=responses(400, 401, 422))
def claims(address: Address, db: Db, model: Annotated[str | None, Query(max_length=200)] = None,
           status: ClaimStatusName | None = None, claimant: Annotated[str | None, Query(
               pattern=r"^0x[0-9a-fA-F]{40}$")] = None,
           period_from: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
           period_to: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
           cursor: Annotated[str | None, Query(max_length=200)] = None,
           limit: Annotated[int, Query(ge=1, le=200)] = 50) -> Page[ClaimOut]:
    """Usage claims from the index (filters: battery model identifier, status, claimant, period overlap)."""
    stmt = select(IxClaim)
    if model is not None and model.strip():
        stmt = stmt.where(IxClaim.battery_model == "0x" + identifier(model).hex())
    if status is not None:
        stmt = stmt.where(IxClaim.status == int(ClaimStatus[status.upper()]))
    if claimant is not None:
        stmt = stmt.where(IxClaim.claimant == checksum(claimant))
    if period_from is not None:
        stmt = stmt.where(col(IxClaim.period_end) >= period_from)
    if period_to is not None:
        stmt = stmt.where(col(IxClaim.period_start) <= period_to)
    rows, nxt = paginate(db, stmt, IxClaim.claim_id, cursor, limit)
    items = [claim_out(r) for r in rows if isinstance(r, IxClaim)]
    return Page[ClaimOut](items=items, next_cursor=nxt, block=indexed_block(db))


def claim_out(r: IxClaim) -> ClaimOut:
    return ClaimOut(claim_id=int(r.claim_id), claimant=r.claimant, status=ClaimStatus(r.status).name.lower(),
                    battery_model=r.battery_model, plant=r.plant, period_start=int(r.period_start),
                    period_end=int(r.period_end), custody_model=CustodyModel(r.custody_model).name.lower())
