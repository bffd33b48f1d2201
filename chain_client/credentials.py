"""W3C Verifiable Credentials (Data Model 2.0) for a certified lot (issuer: MoE) and an attested usage claim
(issuer: MOTIE), secured with JOSE as VC-JOSE-COSE describes (``application/vc+jwt``).

Proof choice: a compact JWS with ``alg: ES256K`` (RFC 8812: ECDSA over secp256k1 and SHA-256), signed with the
ministry's own Ethereum key, its public key in the protected header (``jwk``), the issuer a ``did:pkh`` of that
key's address. Any JOSE library with ES256K (jose, josepy, panva/jose, nimbus) verifies the signature off the
shelf; a Battery Ledger verifier also checks that the key's address is the ministry address the trust file pins.
The payload is the credential itself (``@context``, ``type``, ``issuer``, ``validFrom``, ``credentialSubject``,
``credentialStatus``, ``evidence``); the project's JSON-LD context is ``chain_client/schemas/credentials-v1.jsonld``.

``credentialStatus`` (type ``BatteryLedgerChainStatus``) names the contract and record whose on-chain status
decides whether the credential still holds: a verifier resolves it offline from a verified proof bundle
(:func:`chain_client.credential_check.status_from_bundle`) or live from a node.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from coincurve import PrivateKey
from eth_account.signers.local import LocalAccount
from web3 import Web3

from chain_client.errors import LedgerError
from chain_client.ledger_state import MATERIALS, hex32
from chain_client.suite import Ledger
from chain_client.vocabulary import MOE_ROLE, MOTIE_ROLE, ClaimStatus, LotStatus

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
LEDGER_CONTEXT = "https://battery-ledger.example/credentials/v1"
STATUS_TYPE = "BatteryLedgerChainStatus"
LOT_TYPE = "RecycledMaterialCertificateCredential"
CLAIM_TYPE = "RecycledContentAttestationCredential"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def did_pkh(chain_id: int, address: str) -> str:
    return f"did:pkh:eip155:{chain_id}:{Web3.to_checksum_address(address)}"


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sign_jwt(credential: dict[str, Any], key: LocalAccount) -> str:
    """The credential as a compact JWS (``vc+jwt``) signed ES256K with ``key``."""
    private = PrivateKey(bytes(key.key))
    point = private.public_key.format(compressed=False)
    header = {"alg": "ES256K", "typ": "vc+jwt", "cty": "vc", "kid": f"{credential['issuer']}#blockchainAccountId",
              "jwk": {"kty": "EC", "crv": "secp256k1", "x": b64url(point[1:33]), "y": b64url(point[33:])}}
    signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                     b64url(json.dumps(credential, separators=(",", ":"), sort_keys=True).encode()))
    signature = private.sign_recoverable(hashlib.sha256(signing_input.encode()).digest(), hasher=None)[:64]
    return signing_input + "." + b64url(signature)


def _evidence(ledger: Ledger, contract: Any, event: str, argument: str, value: int) -> list[dict[str, Any]]:
    """The transaction that emitted ``event`` for the record (its certification or attestation)."""
    logs = getattr(contract.events, event)().get_logs(from_block=ledger.deployment.block_number,
                                                       argument_filters={argument: value})
    if not logs:
        raise LedgerError(f"no {event} event for {argument} {value} on chain")
    log = logs[-1]
    return [{"type": ["ChainTransaction"], "chainId": ledger.deployment.chain_id,
             "transactionHash": "0x" + bytes(log["transactionHash"]).hex(), "blockNumber": int(log["blockNumber"]),
             "contract": Web3.to_checksum_address(contract.address), "event": event}]


def _status(ledger: Ledger, contract: str, kind: str, record: int) -> dict[str, Any]:
    chain = ledger.deployment.chain_id
    return {"id": f"urn:battery-ledger:{chain}:{contract.lower()}:{kind}:{record}#status", "type": STATUS_TYPE,
            "chainId": chain, "contract": contract, "record": kind, "recordId": record}


def _check_authority(ledger: Ledger, role: bytes, name: str, key: LocalAccount) -> None:
    if not ledger.registry.contract.functions.hasRole(role, key.address).call():
        raise LedgerError(f"{key.address} does not hold the {name} role: only {name} issues this credential")


def lot_credential(ledger: Ledger, lot_id: int, moe: LocalAccount) -> dict[str, Any]:
    """The (unsigned) credential of a certified lot, issued by MoE."""
    _check_authority(ledger, MOE_ROLE, "MoE", moe)
    lot = ledger.certificates.lot(lot_id)
    if lot.status != LotStatus.CERTIFIED:
        raise LedgerError(f"lot #{lot_id} is not certified (status {lot.status.name.lower()})")
    chain, address = ledger.deployment.chain_id, ledger.certificates.address
    certified = _evidence(ledger, ledger.certificates.contract, "LotCertified", "lotId", lot_id)
    return {
        "@context": [VC_CONTEXT, LEDGER_CONTEXT],
        "id": f"urn:battery-ledger:{chain}:{address.lower()}:lot:{lot_id}",
        "type": ["VerifiableCredential", LOT_TYPE],
        "issuer": did_pkh(chain, moe.address),
        "validFrom": _iso(lot.decided_at),
        "credentialSubject": {
            "id": f"urn:battery-ledger:{chain}:{address.lower()}:lot:{lot_id}",
            "type": "RecycledMaterialLot",
            "lotId": lot_id,
            "recycler": did_pkh(chain, lot.recycler),
            "material": MATERIALS[int(lot.material)],
            "feedstock": "pre-consumer" if int(lot.feedstock) == 0 else "post-consumer",
            "massGrams": str(lot.mass_grams),
            "productionPeriodEnd": _iso(lot.period_end),
            "applicationHash": "0x" + lot.application_hash.hex(),
        },
        "credentialStatus": _status(ledger, address, "lot", lot_id),
        "evidence": certified,
    }


def claim_credential(ledger: Ledger, claim_id: int, motie: LocalAccount) -> dict[str, Any]:
    """The (unsigned) credential of an attested usage claim, issued by MOTIE."""
    _check_authority(ledger, MOTIE_ROLE, "MOTIE", motie)
    claim = ledger.claims.claim(claim_id)
    if claim.status != ClaimStatus.ATTESTED:
        raise LedgerError(f"claim #{claim_id} is not attested (status {claim.status.name.lower()})")
    chain, address = ledger.deployment.chain_id, ledger.claims.address
    shares = ledger.claims.shares(claim_id)
    attested = _evidence(ledger, ledger.claims.contract, "ClaimAttested", "claimId", claim_id)
    return {
        "@context": [VC_CONTEXT, LEDGER_CONTEXT],
        "id": f"urn:battery-ledger:{chain}:{address.lower()}:claim:{claim_id}",
        "type": ["VerifiableCredential", CLAIM_TYPE],
        "issuer": did_pkh(chain, motie.address),
        "validFrom": _iso(claim.decided_at),
        "credentialSubject": {
            "id": f"urn:battery-ledger:{chain}:{address.lower()}:claim:{claim_id}",
            "type": "RecycledContentClaim",
            "claimId": claim_id,
            "claimant": did_pkh(chain, claim.claimant),
            "batteryModel": "0x" + claim.battery_model.hex(),
            "plant": "0x" + claim.plant.hex(),
            "productionPeriodStart": _iso(claim.period_start),
            "productionPeriodEnd": _iso(claim.period_end),
            "custodyModel": claim.custody_model.name,
            "batteriesRoot": "0x" + claim.batteries_root.hex(),
            "evidenceHash": hex32(int.from_bytes(claim.evidence_hash, "big")),
            "recycledContent": [
                {"material": MATERIALS[int(m)], "contentGrams": str(s.content_grams),
                 "preConsumerGrams": str(s.pre_consumer_grams), "postConsumerGrams": str(s.post_consumer_grams),
                 "shareBps": s.share_bps, "preConsumerBps": s.pre_consumer_bps, "postConsumerBps": s.post_consumer_bps}
                for m, s in shares.items()],
            "allocations": [{"lotId": a.lot_id, "grams": str(a.grams)} for a in ledger.claims.allocations(claim_id)],
        },
        "credentialStatus": _status(ledger, address, "claim", claim_id),
        "evidence": attested,
    }
