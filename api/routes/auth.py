"""Sign-in with Ethereum (EIP-4361): a server nonce, a signed message, a session token."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api import siwe
from api.deps import Address, Chain, Config, Db, Perms, token_hash
from api.models import ApiSession, SignInNonce, utcnow
from api.problems import ApiProblem, responses

router = APIRouter(prefix="/v1/auth", tags=["auth"])
STATEMENT = "Sign in to the Battery Ledger portal."


class ChallengeRequest(BaseModel):
    address: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")


class Challenge(BaseModel):
    """A nonce and the EIP-4361 message naming it: sign ``message`` as it is (personal_sign)."""

    nonce: str
    message: str
    expires_at: datetime


class SignInRequest(BaseModel):
    message: str = Field(max_length=4_000)
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


class SessionToken(BaseModel):
    token: str
    address: str
    expires_at: datetime


class Me(BaseModel):
    """Who is signed in and what the registry lets them do, read now from the chain."""

    address: str
    registered: bool
    status: str
    roles: list[str]
    authorities: list[str]


@router.post("/challenge", response_model=Challenge, responses=responses(422, 503))
def challenge(body: ChallengeRequest, db: Db, chain: Chain, settings: Config) -> Challenge:
    """Issues a single-use nonce and the sign-in message for ``address``, valid ``nonce_ttl_seconds``."""
    from eth_utils import to_checksum_address

    nonce = secrets.token_hex(16)
    now = datetime.now(UTC).replace(microsecond=0)
    expires = now + timedelta(seconds=settings.nonce_ttl_seconds)
    db.add(SignInNonce(nonce=nonce, expires_at=expires))
    db.commit()
    message = siwe.SiweMessage(domain=settings.domain, address=to_checksum_address(body.address), uri=settings.uri,
                               chain_id=chain.chain_id, nonce=nonce, issued_at=now, statement=STATEMENT,
                               expiration_time=expires)
    return Challenge(nonce=nonce, message=message.text(), expires_at=expires)


@router.post("/sign-in", response_model=SessionToken, responses=responses(400, 401, 422, 503))
def sign_in(body: SignInRequest, db: Db, chain: Chain, settings: Config) -> SessionToken:
    """Verifies a signed EIP-4361 message (domain, URI, chain, times, signature) and spends its nonce."""
    now = datetime.now(UTC)
    try:
        message = siwe.verify(body.message, body.signature, domain=settings.domain, uri=settings.uri,
                              chain_id=chain.chain_id, now=now)
    except siwe.SiweError as exc:
        status = 400 if exc.code == "malformed-message" else 401
        raise ApiProblem(status, exc.code, str(exc)) from None
    stored = db.get(SignInNonce, message.nonce)
    if stored is None:
        raise ApiProblem(401, "unknown-nonce", "the message's nonce was not issued by this server")
    if stored.used_at is not None:
        raise ApiProblem(401, "nonce-used", "the message's nonce was already used: a replayed sign-in?")
    if stored.expires_at <= utcnow():
        raise ApiProblem(401, "expired", "the nonce expired: ask for a new challenge")
    stored.used_at = utcnow()
    db.add(stored)
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(seconds=settings.session_ttl_seconds)
    if message.expiration_time is not None:
        expires = min(expires, message.expiration_time.astimezone(UTC) + timedelta(
            seconds=settings.session_ttl_seconds))
    db.add(ApiSession(token_hash=token_hash(token), address=message.address, chain_id=chain.chain_id,
                      expires_at=expires))
    db.commit()
    return SessionToken(token=token, address=message.address, expires_at=expires)


@router.post("/sign-out", status_code=204, responses=responses(401))
def sign_out(address: Address, db: Db, authorization: str | None = None) -> None:
    """Ends every session of the signed-in account."""
    from sqlmodel import select

    for session in db.exec(select(ApiSession).where(ApiSession.address == address)).all():
        session.ended_at = utcnow()
        db.add(session)
    db.commit()


@router.get("/me", response_model=Me, responses=responses(401, 503))
def me(perms: Perms) -> Me:
    return Me(address=perms.address, registered=perms.registered, status=perms.status.name.lower(),
              roles=[r.name.lower() for r in perms.roles], authorities=perms.authorities)
