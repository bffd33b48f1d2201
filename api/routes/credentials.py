"""W3C Verifiable Credentials of certified lots (issued by MoE) and attested claims (issued by MOTIE), published
through the portal. The ministry signs the credential with its own key (``bledger credential export``: the portal
never holds a ministry's key) and posts it; the portal checks it as any verifier would (ES256K signature, issuer
DID, the issuer holding the ministry's role on this chain now, the status record on this suite's contract, the record
certified or attested) and serves it to anyone."""

from __future__ import annotations

import json
from pathlib import Path as FilePath
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.deps import Chain, Perms, require_authority
from api.problems import ApiProblem, responses
from chain_client.credential_check import verify_credential
from chain_client.proofs import trust_anchors
from chain_client.verifier import load_trust
from chain_client.vocabulary import ClaimStatus, LotStatus

router = APIRouter(tags=["credentials"])
JWT_MEDIA = "application/vc+jwt"
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]


class CredentialIn(BaseModel):
    credential: str = Field(min_length=1, max_length=20_000, description="the credential as a compact vc+jwt")


class CredentialPublished(BaseModel):
    kind: Literal["lot", "claim"]
    record_id: int
    issuer: str


class JwtResponse(Response):
    media_type = JWT_MEDIA


def _file(request: Request, kind: str, record_id: int) -> FilePath:
    return request.app.state.settings.document_dir / "credentials" / f"{kind}-{record_id}.jwt"  # type: ignore[no-any-return]


@router.post("/v1/credentials", response_model=CredentialPublished, responses=responses(401, 403, 422, 503))
def publish(body: CredentialIn, perms: Perms, chain: Chain, request: Request) -> CredentialPublished:
    """A ministry publishes a credential it signed (MoE: lots, MOTIE: claims)."""
    require_authority(perms, "moe", "motie")
    block = chain.w3.eth.get_block("latest")
    trust = dict(trust_anchors(chain.w3, chain.deployment, signers=[perms.address]),
                 anchor={"type": "block", "hash": "0x" + bytes(block["hash"]).hex()})
    verdict = verify_credential(body.credential, load_trust(json.dumps(trust).encode()))
    if not verdict.ok or verdict.kind is None or verdict.record_id is None or verdict.issuer is None:
        raise ApiProblem(422, "invalid-credential", verdict.failure or "the credential does not verify")
    if verdict.issuer.lower() != perms.address.lower():
        raise ApiProblem(403, "not-the-issuer", f"{perms.address} did not sign this credential ({verdict.issuer} did)")
    if verdict.kind == "lot":
        if chain.ledger.certificates.lot(verdict.record_id).status != LotStatus.CERTIFIED:
            raise ApiProblem(422, "not-certified", f"lot #{verdict.record_id} is not certified")
    elif chain.ledger.claims.claim(verdict.record_id).status != ClaimStatus.ATTESTED:
        raise ApiProblem(422, "not-attested", f"claim #{verdict.record_id} is not attested")
    path = _file(request, verdict.kind, verdict.record_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body.credential.strip())
    return CredentialPublished(kind=verdict.kind, record_id=verdict.record_id, issuer=verdict.issuer)  # type: ignore[arg-type]


def _published(request: Request, kind: str, record_id: int) -> JwtResponse:
    path = _file(request, kind, record_id)
    if not path.is_file():
        raise ApiProblem(404, "no-credential", f"no credential of {kind} #{record_id} has been published")
    return JwtResponse(content=path.read_bytes())


_JWT: dict[int | str, dict[str, object]] = {200: {"content": {JWT_MEDIA: {"schema": {"type": "string"}}},
              "description": "the credential (compact vc+jwt); its status is the chain's: verify it with a proof "
                             "bundle (bledger credential verify --status)"}}


@router.get("/v1/public/lots/{lot_id}/credential", response_class=JwtResponse, responses={**_JWT, **responses(404)})
def lot_credential(lot_id: Id, request: Request) -> JwtResponse:
    """The production certificate of a lot as a W3C Verifiable Credential (issuer: MoE)."""
    return _published(request, "lot", lot_id)


@router.get("/v1/public/claims/{claim_id}/credential", response_class=JwtResponse,
            responses={**_JWT, **responses(404)})
def claim_credential(claim_id: Id, request: Request) -> JwtResponse:
    """The usage attestation of a claim as a W3C Verifiable Credential (issuer: MOTIE)."""
    return _published(request, "claim", claim_id)
