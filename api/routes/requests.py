"""The relay outbox: submit a signed forward request, follow it until it is mined or failed."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from api.deps import Address, Chain, Db, Perms, require_writer
from api.forwarding import SignedRequest, check
from api.models import RelayRequest
from api.problems import ApiProblem, ChainError, responses

router = APIRouter(prefix="/v1/requests", tags=["requests"])


class RequestStatus(BaseModel):
    """queued -> sent -> mined (block, tx hash) | failed (the contract's decoded error)."""

    id: int
    status: str
    signer: str
    target: str
    forwarder_nonce: int
    tx_hash: str | None = None
    block_number: int | None = None
    error: ChainError | None = None
    detail: str | None = None
    created_at: datetime
    updated_at: datetime


def status_of(row: RelayRequest) -> RequestStatus:
    assert row.id is not None
    error = ChainError(name=row.error_name, args=json.loads(row.error_args or "{}")) if row.error_name else None
    return RequestStatus(id=row.id, status=row.status, signer=row.signer, target=row.target,
                         forwarder_nonce=int(row.forwarder_nonce), tx_hash=row.tx_hash if row.status != "queued"
                         else None, block_number=row.block_number, error=error, detail=row.detail,
                         created_at=row.created_at, updated_at=row.updated_at)


@router.post("", status_code=202, response_model=RequestStatus, responses=responses(400, 401, 403, 409, 422, 503))
def submit(body: SignedRequest, perms: Perms, db: Db, chain: Chain, response: Response,
           idempotency_key: Annotated[str | None, Header(max_length=200)] = None) -> RequestStatus:
    """Accepts a signed request: checks the signature (this chain, this forwarder), the nonce and the deadline,
    simulates the act (a refusal is a 422 with the contract's error), and queues it for the relayer. Posting the same
    signed request again, or the same ``Idempotency-Key``, returns the request already accepted."""
    if idempotency_key is not None:
        known = db.exec(select(RelayRequest).where(RelayRequest.idempotency_key == idempotency_key)).first()
        if known is not None:
            if known.signature.lower() != body.signature.lower():
                raise ApiProblem(409, "idempotency-key-reused", "this Idempotency-Key was used for another request")
            response.status_code = 200
            return status_of(known)
    from api.forwarding import digest_of

    digest = "0x" + digest_of(chain, body.request).hex()
    known = db.exec(select(RelayRequest).where(RelayRequest.digest == digest)).first()
    if known is not None:
        response.status_code = 200
        return status_of(known)
    require_writer(perms)
    with chain.signer_lock(perms.address):  # per signer: its nonce order check and the insert go together
        digest, _ = check(chain, db, body, perms.address)
        f = body.request
        row = RelayRequest(idempotency_key=idempotency_key, digest=digest, signer=perms.address,
                           target=chain.w3.to_checksum_address(f.to), gas=f.gas, forwarder_nonce=f.nonce,
                           deadline=f.deadline, data=f.data.lower(), signature=body.signature.lower())
        db.add(row)
        try:
            db.commit()
        except IntegrityError:
            db.rollback()
            raise ApiProblem(409, "duplicate-request", "this request or Idempotency-Key was just accepted") from None
        db.refresh(row)
    return status_of(row)


@router.get("/{request_id}", response_model=RequestStatus, responses=responses(401, 403, 404))
def get_request(request_id: Annotated[int, Path(ge=1, le=2**62)], address: Address, db: Db, chain: Chain
                ) -> RequestStatus:
    row = db.get(RelayRequest, request_id)
    if row is None:
        raise ApiProblem(404, "unknown-request", f"no request {request_id}")
    if row.signer != address and not chain.permissions(address).authorities:
        raise ApiProblem(403, "not-your-request", "only the signer (or an authority) may follow this request")
    return status_of(row)


@router.get("", response_model=list[RequestStatus], responses=responses(401))
def my_requests(address: Address, db: Db, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[RequestStatus]:
    rows = db.exec(select(RelayRequest).where(RelayRequest.signer == address)
                   .order_by(col(RelayRequest.id).desc()).limit(limit)).all()
    return [status_of(r) for r in rows]
