"""Non-custodial writes: the EIP-712 ``ForwardRequest`` a participant signs, and the checks before the outbox."""

from __future__ import annotations

import time
from typing import Any

from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_utils import is_address, to_checksum_address
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, func, select
from web3.contract.contract import ContractFunction

from api.chain import ChainContext
from api.models import RelayRequest
from api.problems import ApiProblem
from chain_client.errors import REVERT_EXCEPTIONS, as_revert
from chain_client.relay import FORWARD_REQUEST_TYPES, FORWARDER_NAME
from chain_client.transactions import GAS_MARGIN

#: Gas the forwarder spends around the inner call (signature check, nonce, event), added to the inner estimate.
FORWARDER_OVERHEAD = 40_000
INFLIGHT = ("queued", "sent")
DOMAIN_TYPE = [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
               {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}]
HEX = r"^0x([0-9a-fA-F]{2})*$"
ADDRESS = r"^0x[0-9a-fA-F]{40}$"
UINT = Field(ge=0, le=2**256 - 1)


class ForwardRequestFields(BaseModel):
    """The request as the forwarder sees it (``from`` is the signer)."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from", pattern=ADDRESS)
    to: str = Field(pattern=ADDRESS)
    value: int = Field(default=0, ge=0, le=0)
    gas: int = Field(ge=21_000, le=30_000_000)
    nonce: int = UINT
    deadline: int = Field(ge=0, le=2**48 - 1)
    data: str = Field(pattern=HEX, max_length=200_000)


class TypedData(BaseModel):
    """EIP-712 typed data, ready for ``eth_signTypedData_v4`` or eth-account's ``sign_typed_data(full_message=)``."""

    types: dict[str, list[dict[str, str]]]
    primaryType: str  # noqa: N815 - the EIP-712 field name
    domain: dict[str, Any]
    message: dict[str, Any]


class PreparedRequest(BaseModel):
    """What to sign for one act: sign ``typed_data``, then POST it with the signature to ``/v1/requests``."""

    act: str
    typed_data: TypedData
    request: ForwardRequestFields
    digest: str


class SignedRequest(BaseModel):
    request: ForwardRequestFields
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


def domain(ctx: ChainContext) -> dict[str, Any]:
    return {"name": FORWARDER_NAME, "version": "1", "chainId": ctx.chain_id,
            "verifyingContract": str(ctx.forwarder.address)}


def typed_data(ctx: ChainContext, fields: ForwardRequestFields) -> dict[str, Any]:
    message = {"from": to_checksum_address(fields.from_), "to": to_checksum_address(fields.to), "value": fields.value,
               "gas": fields.gas, "nonce": fields.nonce, "deadline": fields.deadline, "data": fields.data}
    return {"types": {"EIP712Domain": DOMAIN_TYPE, **FORWARD_REQUEST_TYPES}, "primaryType": "ForwardRequest",
            "domain": domain(ctx), "message": message}


def digest_of(ctx: ChainContext, fields: ForwardRequestFields) -> bytes:
    return bytes(_hash_eip191_message(encode_typed_data(full_message=typed_data(ctx, fields))))


def recover(ctx: ChainContext, fields: ForwardRequestFields, signature: str) -> str:
    try:
        return str(Account.recover_message(encode_typed_data(full_message=typed_data(ctx, fields)),
                                           signature=signature))
    except Exception as exc:  # noqa: BLE001 - malformed signatures raise several kinds
        raise ApiProblem(422, "bad-signature", f"the signature does not verify: {exc}") from None


def outbox_top(db: Session, signer: str) -> int | None:
    """The highest forwarder nonce among the signer's requests in flight (queued or sent) or mined, if any (a
    mined request's nonce is used even while a node's read of the latest state does not show it yet)."""
    top = db.exec(select(func.max(RelayRequest.forwarder_nonce)).where(
        RelayRequest.signer == signer, col(RelayRequest.status).in_((*INFLIGHT, "mined")))).one()
    return None if top is None else int(top)


def expected_nonce(db: Session, signer: str, chain_nonce: int) -> int:
    """The forwarder nonce the signer's next request takes: after the chain's and after the outbox's requests in
    flight or mined (either may lag the other: the larger wins)."""
    top = outbox_top(db, signer)
    return chain_nonce if top is None else max(chain_nonce, top + 1)


def next_nonce(ctx: ChainContext, db: Session, signer: str) -> int:
    return expected_nonce(db, signer, int(ctx.forwarder.functions.nonces(signer).call()))


def deadline(ctx: ChainContext, ttl: int) -> int:
    return max(int(time.time()), ctx.chain_time()) + ttl  # dev chains may run ahead of the wall clock


def prepare(ctx: ChainContext, db: Session, act: str, signer: str, call: ContractFunction, ttl: int) -> PreparedRequest:
    """The forward request for ``call`` by ``signer``; the call is simulated as the signer's first, so an act the
    chain would refuse is refused here (422 with the contract's error)."""
    gas = int(ctx.sender.estimate(signer, call) * GAS_MARGIN) + FORWARDER_OVERHEAD
    data = call._encode_transaction_data()
    fields = ForwardRequestFields.model_validate({
        "from": signer, "to": str(call.address), "value": 0, "gas": gas, "nonce": next_nonce(ctx, db, signer),
        "deadline": deadline(ctx, ttl), "data": data})
    return PreparedRequest(act=act, typed_data=TypedData.model_validate(typed_data(ctx, fields)), request=fields,
                           digest="0x" + digest_of(ctx, fields).hex())


def as_tuple(row: RelayRequest) -> dict[str, Any]:
    """The forwarder's ``ForwardRequestData`` of an outbox row."""
    return {"from": row.signer, "to": row.target, "value": 0, "gas": int(row.gas), "deadline": int(row.deadline),
            "data": bytes.fromhex(row.data.removeprefix("0x")), "signature": bytes.fromhex(row.signature[2:])}


def check(ctx: ChainContext, db: Session, signed: SignedRequest, session_address: str) -> tuple[str, int]:
    """Checks a signed request before it enters the outbox; returns (digest, chain nonce)."""
    fields = signed.request
    if not is_address(fields.from_) or not is_address(fields.to):
        raise ApiProblem(422, "invalid-request", "from and to must be addresses")
    signer = to_checksum_address(fields.from_)
    target = to_checksum_address(fields.to)
    if target not in ctx.suite_addresses or target == ctx.forwarder.address:
        raise ApiProblem(422, "unknown-target", f"{target} is not a contract of this ledger's suite")
    if signer != session_address:
        raise ApiProblem(403, "not-your-request", f"the request is from {signer}; you are signed in as "
                         f"{session_address}")
    recovered = recover(ctx, fields, signed.signature)
    if recovered != signer:
        raise ApiProblem(422, "bad-signature", f"the signature is {recovered}'s under this ledger's forwarder "
                         f"(chain {ctx.chain_id}, {ctx.forwarder.address}), not {signer}'s: signed for another "
                         "chain, contract or request?")
    if fields.deadline <= ctx.chain_time():
        raise ApiProblem(422, "expired-request", f"the request's deadline {fields.deadline} has passed")
    chain_nonce = int(ctx.forwarder.functions.nonces(signer).call())
    if fields.nonce < chain_nonce:
        raise ApiProblem(409, "nonce-used", f"forwarder nonce {fields.nonce} of {signer} is already used "
                         f"(next is {chain_nonce}): a replay?")
    expected = expected_nonce(db, signer, chain_nonce)
    if fields.nonce != expected:
        raise ApiProblem(409, "nonce-out-of-order", f"forwarder nonce {fields.nonce} is not the next one "
                         f"({expected}): prepare the request again")
    simulate(ctx, signer, fields, signed.signature, chain_nonce)
    return "0x" + digest_of(ctx, fields).hex(), chain_nonce


def simulate(ctx: ChainContext, signer: str, fields: ForwardRequestFields, signature: str, chain_nonce: int) -> None:
    """Runs the act on the current state: through the forwarder when it is the signer's next request, else the inner
    call as the signer (earlier requests are still in flight)."""
    data = bytes.fromhex(fields.data[2:])
    try:
        if fields.nonce == chain_nonce:
            request = {"from": signer, "to": to_checksum_address(fields.to), "value": 0, "gas": fields.gas,
                       "deadline": fields.deadline, "data": data, "signature": bytes.fromhex(signature[2:])}
            ctx.forwarder.functions.execute(request).call({"from": ctx.relayer.address})
        else:
            ctx.w3.eth.call({"from": signer, "to": to_checksum_address(fields.to), "data": data})  # type: ignore[typeddict-item]
    except REVERT_EXCEPTIONS as exc:
        raise as_revert(exc) from None
