"""Business registration: authorities register, suspend, reinstate and revoke participants and facilities."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel
from sqlmodel import select

from api.acts import PREPARED, prepared
from api.deps import Address, Chain, Config, Db, Perms, require_authority
from api.forwarding import PreparedRequest
from api.indexer import indexed_block
from api.models import IxParticipant
from api.problems import responses
from api.schemas import ZERO32, AddressStr, Bytes32, Identifier, Page, Uint64, b32, checksum, paginate
from chain_client.vocabulary import BusinessRole, ParticipantStatus, identifier, role_mask, roles_of

router = APIRouter(prefix="/v1/registry", tags=["registry"])
RoleName = Literal["recycler", "material_processor", "cell_maker", "ev_maker", "collector_dismantler",
                   "reuse_remanufacturer", "evaluator", "inspection_body", "transporter", "storage_operator",
                   "importer_verifier"]
MINISTRIES = ("moe", "motie", "molit")
WRITE = responses(401, 403, 422, 503)


def roles_from(names: list[RoleName]) -> list[BusinessRole]:
    return [BusinessRole[n.upper()] for n in names]


class RegisterParticipant(BaseModel):
    account: AddressStr
    roles: list[RoleName]
    profile_hash: Bytes32 = ZERO32


class StatusChange(BaseModel):
    reason_hash: Bytes32 = ZERO32


class RegisterFacility(BaseModel):
    facility: Identifier
    operator: AddressStr
    valid_from: Uint64
    valid_until: Uint64
    scope_hash: Bytes32 = ZERO32


class ParticipantOut(BaseModel):
    address: str
    roles: list[str]
    status: str
    registered_at: int | None = None
    authority: str | None = None


@router.post("/participants", response_model=PreparedRequest, responses=WRITE, summary="Register a participant",
             description=PREPARED)
def register(body: RegisterParticipant, perms: Perms, db: Db, chain: Chain, settings: Config) -> PreparedRequest:
    require_authority(perms, *MINISTRIES)
    roles, account, profile = roles_from(body.roles), checksum(body.account), b32(body.profile_hash)
    return prepared(chain, db, settings, "registry.register", perms.address,
                    lambda ledger, s: ledger.registry.register(s, account, roles, profile))


Action = Literal["suspend", "reinstate", "revoke"]


@router.post("/participants/{account}/{action}", response_model=PreparedRequest, responses=WRITE,
             description=PREPARED)
def change_status(account: Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{40}$")], action: Action, body: StatusChange,
                  perms: Perms, db: Db, chain: Chain, settings: Config) -> PreparedRequest:
    """Suspends, reinstates or revokes a participant (the authority of its roles)."""
    require_authority(perms, *MINISTRIES)
    target, reason = checksum(account), b32(body.reason_hash)
    return prepared(chain, db, settings, f"registry.{action}", perms.address,
                    lambda ledger, s: getattr(ledger.registry, action)(s, target, reason))


@router.post("/facilities", response_model=PreparedRequest, responses=WRITE, description=PREPARED)
def register_facility(body: RegisterFacility, perms: Perms, db: Db, chain: Chain, settings: Config
                      ) -> PreparedRequest:
    require_authority(perms, *MINISTRIES)
    fid, operator = identifier(body.facility), checksum(body.operator)
    return prepared(chain, db, settings, "registry.register_facility", perms.address,
                    lambda ledger, s: ledger.registry.register_facility(s, fid, operator, body.valid_from,
                                                                        body.valid_until, b32(body.scope_hash)))


@router.get("/participants/{account}", response_model=ParticipantOut, responses=responses(401, 404, 422, 503))
def participant(account: Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{40}$")], address: Address, chain: Chain
                ) -> ParticipantOut:
    """A participant as the registry holds it now (read from the chain)."""
    from api.problems import ApiProblem

    p = chain.ledger.registry.participant(checksum(account))
    if p.status == ParticipantStatus.NONE:
        raise ApiProblem(404, "unknown-participant", f"{checksum(account)} is not registered")
    return ParticipantOut(address=p.address, roles=[r.name.lower() for r in p.roles], status=p.status.name.lower(),
                          registered_at=p.registered_at)


@router.get("/participants", response_model=Page[ParticipantOut], responses=responses(400, 401, 422))
def participants(address: Address, db: Db, role: RoleName | None = None,
                 status: Literal["active", "suspended", "revoked"] | None = None,
                 cursor: Annotated[str | None, Query(max_length=200)] = None,
                 limit: Annotated[int, Query(ge=1, le=200)] = 50) -> Page[ParticipantOut]:
    """Registered participants from the index (filters: role, status)."""
    stmt = select(IxParticipant)
    if status is not None:
        stmt = stmt.where(IxParticipant.status == int(ParticipantStatus[status.upper()]))
    if role is not None:
        bit = role_mask(BusinessRole[role.upper()])
        stmt = stmt.where(IxParticipant.roles.op("&")(bit) != 0)  # type: ignore[attr-defined]
    rows, nxt = paginate(db, stmt, IxParticipant.address, cursor, limit)
    items = [ParticipantOut(address=r.address, roles=[x.name.lower() for x in roles_of(r.roles)],
                            status=ParticipantStatus(r.status).name.lower(), authority=r.authority)
             for r in rows if isinstance(r, IxParticipant)]
    return Page[ParticipantOut](items=items, next_cursor=nxt, block=indexed_block(db))
