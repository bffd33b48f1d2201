"""Offline verification of a Battery Ledger credential (``vc+jwt``, ES256K; see :mod:`chain_client.credentials`):
the JWS signature with the key in its header, that key's address as the ``did:pkh`` issuer and as the ministry the
trust file pins (MoE for lots, MOTIE for claims), the status contract the trust file pins, and, given a proof bundle,
the on-chain status it proves (revoked lot, tainted claim) and the certified values against the proven ones."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from coincurve import PublicKey
from eth_hash.auto import keccak

from chain_client.ledger_state import VerificationFailure
from chain_client.verifier import Trust, verify_bundle

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
STATUS_TYPE = "BatteryLedgerChainStatus"
KINDS = {"RecycledMaterialCertificateCredential": ("lot", "moe", "ProductionCertificates"),
         "RecycledContentAttestationCredential": ("claim", "motie", "UsageAttestations")}
AUTHORITY_NAMES = {"moe": "MoE", "motie": "MOTIE"}
_B64 = re.compile(r"^[A-Za-z0-9_-]*$")


@dataclass
class CredentialVerdict:
    ok: bool
    failure: str | None = None
    kind: str | None = None
    issuer: str | None = None
    record_id: int | None = None
    status: str = "not checked (give a proof bundle as status)"
    subject: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "failure": self.failure, "kind": self.kind, "issuer": self.issuer,
                "recordId": self.record_id, "status": self.status, "subject": self.subject}


def _fail(message: str) -> VerificationFailure:
    return VerificationFailure(message)


def _b64(part: str, what: str) -> bytes:
    if not _B64.match(part) or len(part) % 4 == 1:
        raise _fail(f"the credential's {what} is not base64url")
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise _fail(f"the credential's {what} is not base64url") from None


def _json(raw: bytes, what: str) -> dict[str, Any]:
    try:
        obj = json.loads(raw)
    except ValueError:
        raise _fail(f"the credential's {what} is not JSON") from None
    if not isinstance(obj, dict):
        raise _fail(f"the credential's {what} is not a JSON object")
    return obj


def _signer(header: dict[str, Any], signing_input: bytes, signature: bytes) -> str:
    """The address of the header's key, once the ES256K signature checks with it."""
    if header.get("alg") != "ES256K" or header.get("typ") != "vc+jwt":
        raise _fail("the credential is not an ES256K vc+jwt")
    jwk = header.get("jwk")
    if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") != "secp256k1":
        raise _fail("the credential's header carries no secp256k1 key")
    x, y = _b64(str(jwk.get("x", "")), "key"), _b64(str(jwk.get("y", "")), "key")
    if len(x) != 32 or len(y) != 32 or len(signature) != 64:
        raise _fail("the credential's key or signature has the wrong size")
    point = b"\x04" + x + y
    digest = hashlib.sha256(signing_input).digest()
    for v in (0, 1):  # ES256K carries no recovery id: the signature holds if one recovery gives the header's key
        try:
            if PublicKey.from_signature_and_message(signature + bytes([v]), digest, hasher=None).format(
                    compressed=False) == point:
                return "0x" + keccak(point[1:])[12:].hex()
        except Exception:  # noqa: BLE001 - not a valid signature for this recovery id
            continue
    raise _fail("the credential's signature does not verify with the key in its header")


def _check_status(verdict: CredentialVerdict, status_bundle: bytes, trust: Trust,
                  subject: dict[str, Any]) -> None:
    proven = verify_bundle(status_bundle, trust)
    if proven.facts is None:
        raise _fail(f"the status bundle does not verify: {proven.failure}")
    facts, block = proven.facts, (proven.block or {}).get("number")
    if verdict.kind == "claim":
        claim = facts["claim"]
        if claim["id"] != verdict.record_id:
            raise _fail(f"the status bundle proves claim #{claim['id']}, not claim #{verdict.record_id}")
        if claim["tainted"]:
            verdict.status = "tainted"
            raise _fail(f"claim #{claim['id']} is tainted at block {block}: lot #{claim['revokedLot']} was revoked")
        if claim["status"] != "Attested":
            verdict.status = claim["status"].lower()
            raise _fail(f"claim #{claim['id']} is not attested at block {block} (status {claim['status']})")
        for row in subject.get("recycledContent", []):
            share = facts["shares"].get(row.get("material"))
            if share is None or share["shareBps"] != row.get("shareBps") or \
                    share["contentGrams"] != row.get("contentGrams"):
                raise _fail(f"the credential's {row.get('material')} content differs from the chain's")
    else:
        lots = {lot["lotId"]: lot for lot in facts["lots"]}
        lot = lots.get(verdict.record_id)
        if lot is None:
            raise _fail(f"the status bundle does not prove lot #{verdict.record_id} (give a bundle of a claim that "
                        "consumed it)")
        if lot["status"] == "Revoked":
            verdict.status = "revoked"
            raise _fail(f"lot #{verdict.record_id} is revoked at block {block}")
        if lot["status"] != "Certified":
            verdict.status = lot["status"].lower()
            raise _fail(f"lot #{verdict.record_id} is not certified at block {block} (status {lot['status']})")
        if lot["material"] != subject.get("material") or lot["feedstock"] != subject.get("feedstock"):
            raise _fail(f"the credential's material of lot #{verdict.record_id} differs from the chain's")
    verdict.status = f"valid at block {block}"


def verify_credential(text: str, trust: Trust, status_bundle: bytes | None = None) -> CredentialVerdict:
    """Verifies a ``vc+jwt`` credential; never raises for bad input (the verdict names the first failure)."""
    verdict = CredentialVerdict(ok=False)
    try:
        parts = text.strip().split(".")
        if len(parts) != 3:
            raise _fail("the credential is not a compact JWS (three base64url parts)")
        header = _json(_b64(parts[0], "header"), "header")
        payload = _json(_b64(parts[1], "payload"), "payload")
        signer = _signer(header, f"{parts[0]}.{parts[1]}".encode(), _b64(parts[2], "signature"))
        context, types = payload.get("@context"), payload.get("type")
        if not isinstance(context, list) or not context or context[0] != VC_CONTEXT:
            raise _fail("the credential is not a W3C Verifiable Credential 2.0 (@context)")
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            types = []
        kinds = [KINDS[t] for t in types if t in KINDS]
        if "VerifiableCredential" not in types or len(kinds) != 1:
            raise _fail("the credential is neither a lot certificate nor a claim attestation")
        kind, authority, contract = kinds[0]
        verdict.kind = kind
        issuer = f"did:pkh:eip155:{trust.chain_id}:"
        if not isinstance(payload.get("issuer"), str) or payload["issuer"].lower() != (issuer + signer).lower():
            raise _fail(f"the credential's issuer {payload.get('issuer')} is not the key that signed it "
                        f"({issuer}{signer}) on chain {trust.chain_id}")
        verdict.issuer = signer
        pinned = [a.lower() for a in trust.authorities.get(authority, [])]
        if signer not in pinned:
            raise _fail(f"{signer} is not a {AUTHORITY_NAMES[authority]} key the trust file pins")
        status = payload.get("credentialStatus")
        if not isinstance(status, dict) or status.get("type") != STATUS_TYPE or status.get("record") != kind:
            raise _fail("the credential has no Battery Ledger chain status")
        if status.get("chainId") != trust.chain_id or \
                str(status.get("contract", "")).lower() != trust.contracts[contract]["address"].lower():
            raise _fail(f"the credential's status is not on the {contract} contract the trust file pins")
        record = status.get("recordId")
        if not isinstance(record, int) or isinstance(record, bool):
            raise _fail("the credential's status names no record")
        verdict.record_id = record
        subject = payload.get("credentialSubject")
        if not isinstance(subject, dict):
            raise _fail("the credential has no subject")
        verdict.subject = subject
        if status_bundle is not None:
            _check_status(verdict, status_bundle, trust, subject)
        verdict.ok = True
    except VerificationFailure as exc:
        verdict.failure = str(exc)
    return verdict


def render_credential(v: CredentialVerdict) -> str:
    head = "VERIFIED" if v.ok else f"FAILED: {v.failure}"
    lines = [head]
    if v.kind:
        lines.append(f"credential  {v.kind} #{v.record_id}" if v.record_id is not None else f"credential  {v.kind}")
    if v.issuer:
        lines.append(f"issuer      {v.issuer} ({'MoE' if v.kind == 'lot' else 'MOTIE'}, pinned)")
    lines.append(f"status      {v.status}")
    return "\n".join(lines)
