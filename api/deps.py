"""FastAPI dependencies: the chain, a database session, the signed-in account and its on-chain permissions."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlmodel import Session

from api.chain import ChainContext, Permissions
from api.models import ApiSession, utcnow
from api.problems import ApiProblem
from api.settings import Settings
from chain_client.vocabulary import BusinessRole, ParticipantStatus


def get_chain(request: Request) -> ChainContext:
    return request.app.state.chain  # type: ignore[no-any-return]


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_db(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as session:
        yield session


Chain = Annotated[ChainContext, Depends(get_chain)]
Db = Annotated[Session, Depends(get_db)]
Config = Annotated[Settings, Depends(get_settings)]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def optional_address(db: Db, authorization: Annotated[str | None, Header()] = None) -> str | None:
    token = _bearer(authorization)
    if token is None:
        return None
    session = db.get(ApiSession, token_hash(token))
    if session is None or session.ended_at is not None or session.expires_at <= utcnow():
        raise ApiProblem(401, "invalid-session", "the session token is unknown, ended or expired: sign in again",
                         headers={"WWW-Authenticate": "Bearer"})
    return session.address


def current_address(address: Annotated[str | None, Depends(optional_address)]) -> str:
    if address is None:
        raise ApiProblem(401, "no-session", "sign in first (POST /v1/auth/sign-in) and send "
                         "'Authorization: Bearer <token>'", headers={"WWW-Authenticate": "Bearer"})
    return address


def current_permissions(chain: Chain, address: Annotated[str, Depends(current_address)]) -> Permissions:
    return chain.permissions(address)


Address = Annotated[str, Depends(current_address)]
MaybeAddress = Annotated[str | None, Depends(optional_address)]
Perms = Annotated[Permissions, Depends(current_permissions)]


def require_writer(perms: Permissions) -> None:
    """An account that may act at all: an authority, or an active registered participant."""
    if perms.authorities:
        return
    if not perms.registered:
        raise ApiProblem(403, "not-registered", f"{perms.address} is not a registered participant")
    if not perms.active:
        raise ApiProblem(403, f"participant-{perms.status.name.lower()}",
                         f"{perms.address} is {perms.status.name.lower()} in the registry: it may read its own "
                         "data but not act")


def require_role(perms: Permissions, *roles: BusinessRole) -> None:
    """An active registered participant holding one of ``roles`` with that role active (each role's status is set
    by the authority administering it)."""
    require_writer(perms)
    statuses = {perms.role_status(r) for r in roles}
    if ParticipantStatus.ACTIVE in statuses:
        return
    names = ", ".join(r.name.lower() for r in roles)
    for status in (ParticipantStatus.SUSPENDED, ParticipantStatus.REVOKED):
        if status in statuses:
            raise ApiProblem(403, f"participant-{status.name.lower()}", f"{perms.address}'s role ({names}) is "
                             f"{status.name.lower()} in the registry: it may read its own data but not act")
    raise ApiProblem(403, "missing-role", f"{perms.address} holds none of the roles this act needs ({names})")


def require_authority(perms: Permissions, *authorities: str) -> None:
    if not any(a in perms.authorities for a in authorities):
        raise ApiProblem(403, "missing-authority", f"{perms.address} holds none of the authority roles this act "
                         f"needs ({', '.join(authorities)})")
