"""Test vectors shared by the Python verifier tests and the browser verifier tests: valid bundles from a real anvil
node, and bundles tampered in each part, each with the trust file it is checked against and the failure expected.

Made once per session (``proof_vectors`` fixture) from :mod:`chain_client.verification_demo`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chain_client.anvil import AnvilNode
from chain_client.backends import RpcBackend
from chain_client.proofs import battery_bundle, bundle_bytes, claim_bundle, trust_anchors
from chain_client.verification_demo import Scenario, build_scenario
from chain_client.verifier import canonical_json
from chain_client.vocabulary import Material


@dataclass
class Vector:
    name: str
    bundle: bytes
    trust: dict[str, Any]
    failure: str | None  # a substring of the expected failure, None when the bundle must verify

    @property
    def trust_bytes(self) -> bytes:
        return json.dumps(self.trust, indent=1).encode()


def python_verdict(bundle: bytes, trust: bytes) -> dict[str, Any]:
    """The Python verifier's verdict as JSON (a trust file it refuses is a failed verdict, as in the browser)."""
    from chain_client.ledger_state import VerificationFailure
    from chain_client.verifier import Verdict, load_trust, verify_bundle

    try:
        verdict = verify_bundle(bundle, load_trust(trust))
    except VerificationFailure as exc:
        verdict = Verdict(ok=False, failure=str(exc))
    return json.loads(json.dumps(verdict.as_dict()))  # type: ignore[no-any-return]


@dataclass
class Vectors:
    node: AnvilNode
    backend: RpcBackend
    scenario: Scenario
    valid: dict[str, Any]  # the valid battery bundle (parsed)
    trust: dict[str, Any]
    items: dict[str, Vector]


def _flip_hex(value: str, index: int = -1) -> str:
    """The hex string with one nibble changed."""
    chars = list(value)
    chars[index] = "0" if chars[index] != "0" else "1"
    return "".join(chars)


def _mutated(bundle: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> bytes:
    b = copy.deepcopy(bundle)
    change(b)
    return canonical_json(b).encode()


def _storage(b: dict[str, Any], contract: str) -> list[dict[str, Any]]:
    return next(a for a in b["accounts"] if a["contract"] == contract)["storage"]  # type: ignore[no-any-return]


def tampered(valid: dict[str, Any], trust: dict[str, Any]) -> list[tuple[str, bytes, dict[str, Any], str]]:
    """(name, bundle bytes, trust, expected failure) for a tampering of each part of ``valid``."""
    raw = bundle_bytes(valid)
    other_chain = dict(trust, chainId=4242)
    other_code = copy.deepcopy(trust)
    other_code["contracts"]["ProductionCertificates"]["codeHash"] = "0x" + "ab" * 32
    no_field = copy.deepcopy(trust)
    del no_field["layout"]["UsageAttestations"]["_claims"]["fields"]["status"]
    bad_layout = copy.deepcopy(trust)
    bad_layout["layout"]["ProductionCertificates"]["_lots"]["slot"] = "1"

    def header(b: dict[str, Any]) -> None:
        b["header"] = _flip_hex(b["header"], 200)

    def account_node(b: dict[str, Any]) -> None:
        b["accounts"][1]["accountProof"][-1] = _flip_hex(b["accounts"][1]["accountProof"][-1], -3)

    def value(b: dict[str, Any]) -> None:
        s = _storage(b, "UsageAttestations")
        s[0]["value"] = _flip_hex(s[0]["value"], -1)

    def lot_status(b: dict[str, Any]) -> None:  # claim the revoked lot is still certified, or the reverse
        s = _storage(b, "ProductionCertificates")
        s[-1]["value"] = _flip_hex(s[-1]["value"], 23)

    def slot(b: dict[str, Any]) -> None:
        s = _storage(b, "UsageAttestations")
        s[1]["slot"] = _flip_hex(s[1]["slot"])

    def storage_node(b: dict[str, Any]) -> None:
        s = _storage(b, "RecycledContentTargets")
        s[0]["proof"][-1] = _flip_hex(s[0]["proof"][-1], -5)

    def reordered(b: dict[str, Any]) -> None:
        s = _storage(b, "UsageAttestations")
        s[0]["proof"][0], s[0]["proof"][1] = s[0]["proof"][1], s[0]["proof"][0]

    def swapped_entries(b: dict[str, Any]) -> None:
        s = _storage(b, "UsageAttestations")
        s[0], s[1] = s[1], s[0]

    def other_contract(b: dict[str, Any]) -> None:  # the certificates' account proof presented for the claims
        b["accounts"][1]["accountProof"] = b["accounts"][2]["accountProof"]

    def address(b: dict[str, Any]) -> None:
        b["accounts"][0]["address"] = _flip_hex(b["accounts"][0]["address"])

    def claim_id(b: dict[str, Any]) -> None:
        b["subject"]["claimId"] = 2

    def battery(b: dict[str, Any]) -> None:
        b["subject"]["battery"] = b["subject"]["battery"][:-1] + "9"

    def batteries_proof(b: dict[str, Any]) -> None:
        b["subject"]["batteriesProof"][0] = _flip_hex(b["subject"]["batteriesProof"][0])

    def batch_named(b: dict[str, Any]) -> None:
        b["subject"]["batch"] = {"batchId": 1, "proof": []}

    def extra_entry(b: dict[str, Any]) -> None:
        s = _storage(b, "RecycledContentTargets")
        s.append(copy.deepcopy(s[0]))

    def missing_entry(b: dict[str, Any]) -> None:
        _storage(b, "ProductionCertificates").pop()

    def chain_field(b: dict[str, Any]) -> None:
        b["chainId"] = 4242

    def upper_hex(b: dict[str, Any]) -> None:
        b["header"] = b["header"][:10] + b["header"][10:].upper()

    return [
        ("truncated", raw[: len(raw) // 2], trust, "not valid JSON"),
        ("reserialised", json.dumps(valid).encode(), trust, "not in canonical form"),
        ("extra-space", raw.replace(b'"kind"', b' "kind"', 1), trust, "not in canonical form"),
        ("foreign-chain-trust", raw, other_chain, "is for chain 31337, the trust file for chain 4242"),
        ("foreign-chain-bundle", _mutated(valid, chain_field), trust, "is for chain 4242, the trust file for chain 31337"),
        ("header-byte", _mutated(valid, header), trust, "is not the block the trust file pins"),
        ("header-hex-case", _mutated(valid, upper_hex), trust, "header is not lower-case 0x-hex"),
        ("account-proof-node", _mutated(valid, account_node), trust, "the proof of the UsageAttestations account"),
        ("other-contract-proof", _mutated(valid, other_contract), trust, "the proof of the UsageAttestations account"),
        ("address", _mutated(valid, address), trust, "not at"),
        ("layout-missing-field", raw, no_field, "the trust file's layout has no UsageAttestations._claims.status"),
        ("layout-malformed", raw, bad_layout, "the trust file's layout of ProductionCertificates._lots is malformed"),
        ("code-hash", raw, other_code, "the code at ProductionCertificates's address is not the code the trust file pins"),
        ("storage-value", _mutated(valid, value), trust, "is not the one its proof holds"),
        ("lot-status", _mutated(valid, lot_status), trust, "is not the one its proof holds"),
        ("storage-slot", _mutated(valid, slot), trust, "UsageAttestations storage proof 1 is for slot"),
        ("storage-proof-node", _mutated(valid, storage_node), trust, "RecycledContentTargets slot"),
        ("reordered-proof", _mutated(valid, reordered), trust, "does not start at the root"),
        ("reordered-entries", _mutated(valid, swapped_entries), trust, "UsageAttestations storage proof 0 is for slot"),
        ("extra-entry", _mutated(valid, extra_entry), trust, "is for a slot the verdict does not read"),
        ("batch-for-own-record", _mutated(valid, batch_named), trust, "has its own record: a bundle names no batch"),
        ("missing-entry", _mutated(valid, missing_entry), trust, "the bundle has no storage proof for"),
        ("claim-id", _mutated(valid, claim_id), trust, "but the verifier reads claim #2"),
        ("battery-id", _mutated(valid, battery), trust, "but the verifier reads battery KR:KCELL:EV:0000009"),
        ("batteries-proof", _mutated(valid, batteries_proof), trust, "is not in the batteries root of claim #1"),
    ]


@pytest.fixture(scope="session")
def proof_vectors(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vectors]:
    with AnvilNode() as node:
        backend = RpcBackend(node.url)
        s = build_scenario(backend)
        w3, dep = backend.w3, s.deployment
        valid = battery_bundle(w3, dep, s.batteries[1], s.batteries)
        trust = trust_anchors(w3, dep, valid)
        claim = claim_bundle(w3, dep, s.claim_id)
        claim_trust = trust_anchors(w3, dep, claim)
        in_batch = battery_bundle(w3, dep, s.batteries[5], s.batteries)
        batch_trust = trust_anchors(w3, dep, in_batch)
        items = {"battery-valid": Vector("battery-valid", bundle_bytes(valid), trust, None),
                 "claim-valid": Vector("claim-valid", bundle_bytes(claim), claim_trust, None),
                 "battery-in-batch": Vector("battery-in-batch", bundle_bytes(in_batch), batch_trust, None)}
        for name, data, t, failure in tampered(valid, trust):
            items[name] = Vector(name, data, t, failure)

        def batch_proof(b: dict[str, Any]) -> None:
            b["subject"]["batch"]["proof"][0] = _flip_hex(b["subject"]["batch"]["proof"][0])

        def batch_id(b: dict[str, Any]) -> None:
            b["subject"]["batch"]["batchId"] = 2

        def no_batch(b: dict[str, Any]) -> None:
            b["subject"]["batch"] = None

        for name, change, failure in (("batch-proof", batch_proof, "is not in batch #1"),
                                      ("batch-id", batch_id, "but the verifier reads batch #2"),
                                      ("batch-missing", no_batch, "has no passport record on chain")):
            items[name] = Vector(name, _mutated(in_batch, change), batch_trust, failure)
        s.ledger.certificates.revoke(s.accounts["moe"], s.lots[Material.COBALT])
        after = battery_bundle(w3, dep, s.batteries[1], s.batteries)
        after_trust = trust_anchors(w3, dep, after)
        items["battery-tainted"] = Vector("battery-tainted", bundle_bytes(after), after_trust,
                                          f"claim #1 is tainted: lot #{s.lots[Material.COBALT]} was revoked")
        stale = dict(trust, minBlock=int(w3.eth.block_number))
        items["before-revocation"] = Vector("before-revocation", bundle_bytes(valid), stale,
                                            "older than block")
        yield Vectors(node, backend, s, valid, trust, items)


def write_vectors(vectors: Vectors, directory: Path) -> list[dict[str, Any]]:
    """Writes each vector as NAME.bundle.json and NAME.trust.json; returns the index."""
    directory.mkdir(parents=True, exist_ok=True)
    index = []
    for v in vectors.items.values():
        (directory / f"{v.name}.bundle.json").write_bytes(v.bundle)
        (directory / f"{v.name}.trust.json").write_bytes(v.trust_bytes)
        index.append({"name": v.name, "failure": v.failure})
    return index


def credential_vectors(vectors: Vectors) -> list[tuple[str, str, bytes, bytes | None]]:
    """(name, credential, trust bytes, status bundle or None): credentials both verifiers must judge alike."""
    import base64

    from eth_account import Account

    from chain_client.credentials import claim_credential, lot_credential, sign_jwt

    s = vectors.scenario
    moe, motie = s.accounts["moe"], s.accounts["motie"]
    before, after = vectors.items["battery-valid"], vectors.items["battery-tainted"]
    li = lot_credential(s.ledger, s.lots[Material.LITHIUM], moe)
    co = dict(li, credentialSubject=dict(li["credentialSubject"], lotId=s.lots[Material.COBALT], material="Co"),
              credentialStatus=dict(li["credentialStatus"], recordId=s.lots[Material.COBALT]))
    claim = claim_credential(s.ledger, s.claim_id, motie)
    stranger = Account.from_key("0x" + "5a" * 32)
    good = sign_jwt(li, moe)
    head, _, sig = good.split(".")
    changed = dict(li, credentialSubject=dict(li["credentialSubject"], massGrams="1"))
    body = base64.urlsafe_b64encode(json.dumps(changed).encode()).rstrip(b"=").decode()
    return [
        ("lot", good, before.trust_bytes, None),
        ("lot-status", good, after.trust_bytes, after.bundle),
        ("lot-revoked", sign_jwt(co, moe), after.trust_bytes, after.bundle),
        ("lot-before-revocation", sign_jwt(co, moe), before.trust_bytes, before.bundle),
        ("claim", sign_jwt(claim, motie), before.trust_bytes, before.bundle),
        ("claim-tainted", sign_jwt(claim, motie), after.trust_bytes, after.bundle),
        ("claim-bad-status", sign_jwt(claim, motie), before.trust_bytes, vectors.items["storage-value"].bundle),
        ("forged-issuer", sign_jwt(dict(li, issuer=f"did:pkh:eip155:31337:{stranger.address}"), stranger),
         before.trust_bytes, None),
        ("impostor", sign_jwt(li, stranger), before.trust_bytes, None),
        ("changed-payload", f"{head}.{body}.{sig}", before.trust_bytes, None),
        ("not-a-jwt", "hello", before.trust_bytes, None),
    ]


def write_credential_vectors(vectors: Vectors, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, jwt, trust, status in credential_vectors(vectors):
        (directory / f"{name}.cred.jwt").write_text(jwt + "\n")
        (directory / f"{name}.cred-trust.json").write_bytes(trust)
        if status is not None:
            (directory / f"{name}.cred-status.json").write_bytes(status)
