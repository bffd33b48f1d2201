"""Documents: content-addressed by the keccak256 that goes on-chain, stored on disk, read by sharing tier.

Tiers: ``public`` (anyone), ``legitimate_interest`` (active registered participants, authorities, the uploader),
``authority`` (ministries and the uploader). Reads of restricted documents are audit-logged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from eth_utils import keccak
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlmodel import col, select

from api.deps import Address, Chain, Config, Db, MaybeAddress, Perms, require_writer
from api.models import Document, DocumentRead
from api.problems import ApiProblem, responses

router = APIRouter(prefix="/v1/documents", tags=["documents"])
Tier = Literal["public", "legitimate_interest", "authority"]
HashPath = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{64}$")]


class DocumentOut(BaseModel):
    hash: str
    media_type: str
    size: int
    tier: str
    uploader: str
    created_at: datetime


class AuditEntry(BaseModel):
    reader: str
    tier: str
    at: datetime


def out(d: Document) -> DocumentOut:
    return DocumentOut(hash=d.hash, media_type=d.media_type, size=int(d.size), tier=d.tier, uploader=d.uploader,
                       created_at=d.created_at)


@router.post("", status_code=201, response_model=DocumentOut, responses=responses(401, 403, 413, 415, 422),
             openapi_extra={"requestBody": {"required": True, "content": {
                 t: {"schema": {"type": "string", "format": "binary"}} for t in ("application/pdf", "text/plain")}}})
async def upload(request: Request, tier: Tier = "legitimate_interest") -> DocumentOut:
    """Uploads the request body as a document (its Content-Type must be an allowed type); returns its keccak256,
    the hash to commit on-chain."""
    from api.deps import current_address, optional_address

    settings = request.app.state.settings
    from sqlmodel import Session

    with Session(request.app.state.engine) as db:
        address = current_address(optional_address(db, request.headers.get("authorization")))
        perms = request.app.state.chain.permissions(address)
        require_writer(perms)
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in settings.document_types:
            raise ApiProblem(415, "unsupported-media-type", f"documents may be {', '.join(settings.document_types)}; "
                             f"got {media_type or 'no Content-Type'}")
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > settings.max_document_bytes:
            raise ApiProblem(413, "document-too-large", f"documents are limited to {settings.max_document_bytes} bytes")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > settings.max_document_bytes:
                raise ApiProblem(413, "document-too-large",
                                 f"documents are limited to {settings.max_document_bytes} bytes")
        if not body:
            raise ApiProblem(422, "empty-document", "the document is empty")
        digest = "0x" + keccak(bytes(body)).hex()
        existing = db.get(Document, digest)
        if existing is not None:
            return out(existing)
        directory = settings.document_dir
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / digest[2:]
        tmp = path.with_suffix(".part")
        tmp.write_bytes(bytes(body))
        tmp.replace(path)
        doc = Document(hash=digest, media_type=media_type, size=len(body), tier=tier, uploader=address)
        db.add(doc)
        db.commit()
        db.refresh(doc)
        return out(doc)


def _may_read(doc: Document, address: str | None, chain: Chain) -> bool:
    if doc.tier == "public":
        return True
    if address is None:
        raise ApiProblem(401, "no-session", f"this document is {doc.tier.replace('_', ' ')} tier: sign in first",
                         headers={"WWW-Authenticate": "Bearer"})
    if address == doc.uploader:
        return True
    perms = chain.permissions(address)
    if doc.tier == "authority":
        return bool(set(perms.authorities) & {"moe", "motie", "molit"})
    return bool(perms.authorities) or (perms.active and bool(perms.roles))


@router.get("/{doc_hash}", responses={200: {"content": {"application/octet-stream": {}}},
                                      **responses(401, 403, 404, 422)})
def read(doc_hash: HashPath, db: Db, chain: Chain, settings: Config, address: MaybeAddress) -> Response:
    """The document's bytes, if the reader's tier allows (403 otherwise); restricted reads are audit-logged."""
    doc = db.get(Document, doc_hash.lower())
    if doc is None:
        raise ApiProblem(404, "unknown-document", f"no document {doc_hash}")
    if not _may_read(doc, address, chain):
        raise ApiProblem(403, "tier-forbidden", f"this document is {doc.tier.replace('_', ' ')} tier; "
                         f"{address} may not read it")
    if doc.tier != "public":
        db.add(DocumentRead(hash=doc.hash, reader=address or "", tier=doc.tier))
        db.commit()
    data = (settings.document_dir / doc.hash[2:]).read_bytes()
    return Response(content=data, media_type=doc.media_type)


@router.get("/{doc_hash}/audit", response_model=list[AuditEntry], responses=responses(401, 403, 404, 422))
def audit(doc_hash: HashPath, address: Address, db: Db, chain: Chain,
          limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[AuditEntry]:
    """Who read a restricted document (the uploader and the ministries may see this)."""
    doc = db.get(Document, doc_hash.lower())
    if doc is None:
        raise ApiProblem(404, "unknown-document", f"no document {doc_hash}")
    if address != doc.uploader and not chain.permissions(address).authorities:
        raise ApiProblem(403, "tier-forbidden", "only the uploader and the ministries see a document's readers")
    rows = db.exec(select(DocumentRead).where(DocumentRead.hash == doc.hash)
                   .order_by(col(DocumentRead.id).desc()).limit(limit)).all()
    return [AuditEntry(reader=r.reader, tier=r.tier, at=r.at) for r in rows]


__all__ = ["router", "Perms"]
