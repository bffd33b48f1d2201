"""Performance evaluation before removal: evaluators register their measuring devices; evaluations from the index."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlmodel import select

from api.acts import PREPARED, prepared
from api.deps import Address, Chain, Config, Db, Perms, require_role
from api.forwarding import PreparedRequest
from api.indexer import indexed_block
from api.models import IxEvaluation
from api.problems import responses
from api.schemas import AddressStr, Page, checksum, int_cursor
from chain_client.passports import battery_id

router = APIRouter(prefix="/v1/evaluation", tags=["evaluation"])


class RegisterDevice(BaseModel):
    device: AddressStr


class EvaluationOut(BaseModel):
    battery_id: str
    grade: int
    state_of_health_bps: int
    evaluator: str
    device: str
    policy_version: int
    measured_at: int
    block_number: int


@router.post("/devices", response_model=PreparedRequest, responses=responses(401, 403, 422, 503),
             description=PREPARED)
def register_device(body: RegisterDevice, perms: Perms, db: Db, chain: Chain, settings: Config) -> PreparedRequest:
    """An evaluator registers the device whose signed measurement reports it vouches for."""
    from chain_client.vocabulary import BusinessRole

    require_role(perms, BusinessRole.EVALUATOR)
    device = checksum(body.device)
    return prepared(chain, db, settings, "evaluation.register_device", perms.address,
                    lambda ledger, s: ledger.evaluations.register_device(s, device))


@router.get("/evaluations", response_model=Page[EvaluationOut], responses=responses(400, 401, 422))
def evaluations(address: Address, db: Db, battery: Annotated[str | None, Query(max_length=200)] = None,
                cursor: Annotated[str | None, Query(max_length=200)] = None,
                limit: Annotated[int, Query(ge=1, le=200)] = 50) -> Page[EvaluationOut]:
    stmt = select(IxEvaluation)
    if battery is not None and battery.strip():
        stmt = stmt.where(IxEvaluation.battery_id == "0x" + battery_id(battery).hex())
    after = int_cursor(cursor)
    if after is not None:
        stmt = stmt.where(IxEvaluation.id > after)  # type: ignore[operator]
    rows = list(db.exec(stmt.order_by(IxEvaluation.id).limit(limit + 1)).all())  # type: ignore[arg-type]
    from api.schemas import encode_cursor

    nxt = encode_cursor(rows[limit - 1].id or 0) if len(rows) > limit else None
    items = [EvaluationOut(battery_id=r.battery_id, grade=r.grade, state_of_health_bps=r.state_of_health_bps,
                           evaluator=r.evaluator, device=r.device, policy_version=r.policy_version,
                           measured_at=int(r.measured_at), block_number=int(r.block_number)) for r in rows[:limit]]
    return Page[EvaluationOut](items=items, next_cursor=nxt, block=indexed_block(db))
