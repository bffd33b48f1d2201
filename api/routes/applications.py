"""Business registration applications: a business submits its dossier, the responsible ministry reviews it in a
queue, may ask for changes, and approves by signing the on-chain registration. The status follows the chain."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Literal

from eth_utils import keccak
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlmodel import col, select

from api.acts import PREPARED, prepared
from api.deps import Address, Chain, Config, Db, Perms, require_authority
from api.forwarding import PreparedRequest
from api.models import Document, Dossier, RegistrationApplication, utcnow
from api.problems import ApiProblem, responses
from api.routes.registry import RoleName, roles_from
from api.schemas import Bytes32
from chain_client.errors import ContractRevert
from chain_client.vocabulary import ParticipantStatus, role_mask, roles_of

router = APIRouter(prefix="/v1/applications", tags=["applications"])
Ministry = Literal["moe", "motie", "molit"]
IdPath = Annotated[int, Path(ge=1, le=2**62)]


class ApplicationIn(BaseModel):
    authority: Ministry
    roles: list[RoleName] = Field(min_length=1)
    documents: list[Bytes32] = Field(min_length=1, max_length=50)


class ChangeRequest(BaseModel):
    note: str = Field(min_length=1, max_length=2_000)


class ApplicationOut(BaseModel):
    id: int
    applicant: str
    authority: str
    roles: list[str]
    documents: list[str]
    profile_hash: str
    status: str
    note: str | None
    created_at: datetime
    updated_at: datetime


class DossierIn(BaseModel):
    documents: list[Bytes32] = Field(min_length=1, max_length=50)


class DossierOut(BaseModel):
    kind: str
    subject_id: int
    owner: str
    documents: list[str]


def profile_hash(documents: list[str]) -> str:
    """The on-chain profile hash of a dossier: keccak256 of its document hashes in order."""
    return "0x" + keccak(b"".join(bytes.fromhex(d[2:]) for d in documents)).hex()


def _documents_exist(db: Db, documents: list[str]) -> list[str]:
    docs = [d.lower() for d in documents]
    missing = [d for d in docs if db.get(Document, d) is None]
    if missing:
        raise ApiProblem(422, "unknown-document", f"upload these documents first: {', '.join(missing)}")
    return docs


def _out(app: RegistrationApplication, chain: Chain, db: Db) -> ApplicationOut:
    """The application, its status synchronised with the chain (registered -> approved)."""
    if app.status != "approved":
        p = chain.ledger.registry.participant(app.applicant)
        if p.status != ParticipantStatus.NONE:
            app.status, app.updated_at = "approved", utcnow()
            db.add(app)
            db.commit()
            db.refresh(app)
    assert app.id is not None
    return ApplicationOut(id=app.id, applicant=app.applicant, authority=app.authority,
                          roles=[r.name.lower() for r in roles_of(int(app.roles))], documents=json.loads(app.documents),
                          profile_hash=app.profile_hash, status=app.status, note=app.note, created_at=app.created_at,
                          updated_at=app.updated_at)


def _get(db: Db, app_id: int) -> RegistrationApplication:
    app = db.get(RegistrationApplication, app_id)
    if app is None:
        raise ApiProblem(404, "unknown-application", f"no application {app_id}")
    return app


@router.post("/registrations", status_code=201, response_model=ApplicationOut, responses=responses(401, 409, 422, 503))
def submit(body: ApplicationIn, address: Address, db: Db, chain: Chain) -> ApplicationOut:
    """A business (signed in, not yet registered) applies for registration with its dossier."""
    if chain.ledger.registry.participant(address).status != ParticipantStatus.NONE:
        raise ApiProblem(409, "already-registered", f"{address} is already in the registry")
    pending = db.exec(select(RegistrationApplication).where(
        RegistrationApplication.applicant == address,
        col(RegistrationApplication.status).in_(("submitted", "changes_requested")))).first()
    if pending is not None:
        raise ApiProblem(409, "application-pending", f"application {pending.id} is still under review")
    docs = _documents_exist(db, body.documents)
    app = RegistrationApplication(applicant=address, authority=body.authority, roles=role_mask(roles_from(body.roles)),
                                  documents=json.dumps(docs), profile_hash=profile_hash(docs))
    db.add(app)
    db.commit()
    db.refresh(app)
    return _out(app, chain, db)


@router.put("/registrations/{app_id}", response_model=ApplicationOut, responses=responses(401, 403, 404, 409, 422))
def resubmit(app_id: IdPath, body: DossierIn, address: Address, db: Db, chain: Chain) -> ApplicationOut:
    """The applicant answers a change request with a new dossier."""
    app = _get(db, app_id)
    if app.applicant != address:
        raise ApiProblem(403, "not-your-application", "only the applicant may change its dossier")
    if app.status != "changes_requested":
        raise ApiProblem(409, "not-awaiting-changes", f"the application is {app.status}")
    docs = _documents_exist(db, body.documents)
    app.documents, app.profile_hash, app.status, app.updated_at = json.dumps(docs), profile_hash(docs), "submitted", utcnow()
    db.add(app)
    db.commit()
    db.refresh(app)
    return _out(app, chain, db)


@router.get("/registrations", response_model=list[ApplicationOut], responses=responses(401, 403, 503))
def queue(perms: Perms, db: Db, chain: Chain, status: Literal["submitted", "changes_requested", "approved"] | None = None,
          limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[ApplicationOut]:
    """A ministry's review queue (its own applications), or the applicant's own applications."""
    stmt = select(RegistrationApplication)
    ministries = [a for a in perms.authorities if a in ("moe", "motie", "molit")]
    if ministries:
        stmt = stmt.where(col(RegistrationApplication.authority).in_(ministries))
    else:
        stmt = stmt.where(RegistrationApplication.applicant == perms.address)
    if status is not None:
        stmt = stmt.where(RegistrationApplication.status == status)
    rows = db.exec(stmt.order_by(col(RegistrationApplication.id)).limit(limit)).all()
    return [_out(r, chain, db) for r in rows]


@router.get("/registrations/{app_id}", response_model=ApplicationOut, responses=responses(401, 403, 404, 503))
def get_application(app_id: IdPath, perms: Perms, db: Db, chain: Chain) -> ApplicationOut:
    app = _get(db, app_id)
    if app.applicant != perms.address and app.authority not in perms.authorities:
        raise ApiProblem(403, "not-your-application", "only the applicant and its ministry see this application")
    return _out(app, chain, db)


@router.post("/registrations/{app_id}/request-changes", response_model=ApplicationOut,
             responses=responses(401, 403, 404, 409, 422))
def request_changes(app_id: IdPath, body: ChangeRequest, perms: Perms, db: Db, chain: Chain) -> ApplicationOut:
    app = _get(db, app_id)
    require_authority(perms, app.authority)
    if app.status != "submitted":
        raise ApiProblem(409, "not-under-review", f"the application is {app.status}")
    app.status, app.note, app.updated_at = "changes_requested", body.note, utcnow()
    db.add(app)
    db.commit()
    db.refresh(app)
    return _out(app, chain, db)


@router.post("/registrations/{app_id}/approve", response_model=PreparedRequest,
             responses=responses(401, 403, 404, 409, 422, 503), description=PREPARED)
def approve(app_id: IdPath, perms: Perms, db: Db, chain: Chain, settings: Config) -> PreparedRequest:
    """The ministry approves by signing the on-chain registration (profile hash = the dossier's hash); the
    application shows ``approved`` once the registration is mined."""
    app = _get(db, app_id)
    require_authority(perms, app.authority)
    if app.status != "submitted":
        raise ApiProblem(409, "not-under-review", f"the application is {app.status}")
    roles, applicant, profile = roles_of(int(app.roles)), app.applicant, bytes.fromhex(app.profile_hash[2:])
    return prepared(chain, db, settings, "registry.register", perms.address,
                    lambda ledger, s: ledger.registry.register(s, applicant, roles, profile))


@router.put("/dossiers/{kind}/{subject_id}", response_model=DossierOut, responses=responses(401, 403, 404, 422, 503))
def attach_dossier(kind: Literal["lot", "claim"], subject_id: IdPath, body: DossierIn, address: Address, db: Db,
                   chain: Chain) -> DossierOut:
    """Attaches the dossier of a lot certification (lab reports, source batteries) or a usage claim (bill of
    materials); only the lot's recycler or the claim's claimant may."""
    if kind == "lot":
        lot = chain.ledger.certificates.lot(subject_id)
        owner = lot.recycler if lot.status else None
    else:
        try:
            claim = chain.ledger.claims.claim(subject_id)
            owner = claim.claimant if claim.status else None
        except ContractRevert:
            owner = None
    if owner is None:
        raise ApiProblem(404, f"unknown-{kind}", f"no {kind} {subject_id}")
    if owner != address:
        raise ApiProblem(403, "not-your-record", f"only {owner} may attach this {kind}'s dossier")
    docs = _documents_exist(db, body.documents)
    row = db.exec(select(Dossier).where(Dossier.kind == kind, Dossier.subject_id == subject_id)).first()
    row = row or Dossier(kind=kind, subject_id=subject_id, owner=owner, documents="[]")
    row.documents = json.dumps(docs)
    db.add(row)
    db.commit()
    return DossierOut(kind=kind, subject_id=subject_id, owner=owner, documents=docs)


@router.get("/dossiers/{kind}/{subject_id}", response_model=DossierOut, responses=responses(401, 404, 422))
def get_dossier(kind: Literal["lot", "claim"], subject_id: IdPath, address: Address, db: Db) -> DossierOut:
    """A dossier's document list (each document's own tier governs who may read it)."""
    row = db.exec(select(Dossier).where(Dossier.kind == kind, Dossier.subject_id == subject_id)).first()
    if row is None:
        raise ApiProblem(404, "unknown-dossier", f"no dossier for {kind} {subject_id}")
    return DossierOut(kind=kind, subject_id=int(row.subject_id), owner=row.owner, documents=json.loads(row.documents))


__all__ = ["router", "Config"]
