"""W3C Verifiable Credentials (vc+jwt, ES256K) of a certified lot (MoE) and an attested claim (MOTIE): exported from
the chain, verified offline with the pinned keys, status resolved from proof bundles (revoked lot, tainted claim),
checked by an independent JOSE implementation (Node's crypto), and the published JSON Schemas validate the files."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
from eth_account import Account
from typer.testing import CliRunner

from chain_client.build import PACKAGE_DIR
from chain_client.cli import app
from chain_client.credential_check import verify_credential
from chain_client.credentials import claim_credential, lot_credential, sign_jwt
from chain_client.errors import LedgerError
from chain_client.verifier import load_trust
from chain_client.vocabulary import Material
from tests.vectors import Vectors

SCHEMAS = PACKAGE_DIR / "schemas"
runner = CliRunner()


def _payload(jwt: str) -> dict[str, object]:
    part = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # type: ignore[no-any-return]


def test_lot_and_claim_credentials(proof_vectors: Vectors) -> None:
    s, trust = proof_vectors.scenario, load_trust(proof_vectors.items["battery-valid"].trust_bytes)
    moe, motie = s.accounts["moe"], s.accounts["motie"]
    before, after = proof_vectors.items["battery-valid"].bundle, proof_vectors.items["battery-tainted"].bundle
    # a dev node's trust file pins one block: the later status bundle is checked with the later anchor
    later = load_trust(proof_vectors.items["battery-tainted"].trust_bytes)

    li = sign_jwt(lot_credential(s.ledger, s.lots[Material.LITHIUM], moe), moe)
    payload = _payload(li)
    assert payload["type"] == ["VerifiableCredential", "RecycledMaterialCertificateCredential"]
    assert payload["issuer"] == f"did:pkh:eip155:31337:{moe.address}"
    assert payload["evidence"][0]["event"] == "LotCertified"  # type: ignore[index]
    v = verify_credential(li, trust)
    assert v.ok and v.status.startswith("not checked") and v.issuer == moe.address.lower()
    v = verify_credential(li, later, after)
    assert v.ok and v.status.startswith("valid at block"), v.failure

    # the cobalt lot's credential as MoE issued it before the revocation (the fixture revoked it since)
    co = dict(lot_credential(s.ledger, s.lots[Material.LITHIUM], moe))
    co["credentialSubject"] = dict(co["credentialSubject"], lotId=s.lots[Material.COBALT], material="Co")
    co["credentialStatus"] = dict(co["credentialStatus"], recordId=s.lots[Material.COBALT])
    co_jwt = sign_jwt(co, moe)
    assert verify_credential(co_jwt, trust, before).ok
    v = verify_credential(co_jwt, later, after)
    assert not v.ok and v.status == "revoked"
    assert v.failure == f"lot #{s.lots[Material.COBALT]} is revoked at block {load_block(after)}"
    with pytest.raises(LedgerError, match="is not certified"):
        lot_credential(s.ledger, s.lots[Material.COBALT], moe)

    claim = sign_jwt(claim_credential(s.ledger, s.claim_id, motie), motie)
    assert verify_credential(claim, trust, before).ok
    v = verify_credential(claim, later, after)
    assert not v.ok and "is tainted at block" in (v.failure or "") and v.status == "tainted"


def load_block(bundle: bytes) -> int:
    from chain_client.headers import decode_header

    return decode_header(bytes.fromhex(json.loads(bundle)["header"][2:])).number


def test_credentials_that_must_fail(proof_vectors: Vectors) -> None:
    s, trust = proof_vectors.scenario, load_trust(proof_vectors.items["battery-valid"].trust_bytes)
    moe, motie = s.accounts["moe"], s.accounts["motie"]
    with pytest.raises(LedgerError, match="does not hold the MoE role"):
        lot_credential(s.ledger, s.lots[Material.LITHIUM], motie)
    cred = lot_credential(s.ledger, s.lots[Material.LITHIUM], moe)
    stranger = Account.create()
    forged = sign_jwt(dict(cred, issuer=f"did:pkh:eip155:31337:{stranger.address}"), stranger)
    assert verify_credential(forged, trust).failure == f"{stranger.address.lower()} is not a MoE key the trust file pins"
    impostor = sign_jwt(cred, stranger)  # claims MoE as issuer, signed by another key
    assert "is not the key that signed it" in (verify_credential(impostor, trust).failure or "")
    good = sign_jwt(cred, moe)
    head, body, sig = good.split(".")
    changed = dict(_payload(good), credentialSubject=dict(cred["credentialSubject"], massGrams="999999999"))
    body2 = base64.urlsafe_b64encode(json.dumps(changed).encode()).rstrip(b"=").decode()
    assert verify_credential(f"{head}.{body2}.{sig}", trust).failure == \
        "the credential's signature does not verify with the key in its header"
    assert verify_credential("not a jwt", trust).failure == "the credential is not a compact JWS (three base64url parts)"
    other = dict(cred, credentialStatus=dict(cred["credentialStatus"], contract="0x" + "11" * 20))
    assert "status is not on the ProductionCertificates contract" in (verify_credential(sign_jwt(other, moe), trust).failure or "")
    claim = sign_jwt(claim_credential(s.ledger, s.claim_id, motie), motie)
    wrong_status = proof_vectors.items["claim-id"].bundle  # a tampered bundle
    assert "the status bundle does not verify" in (verify_credential(claim, trust, wrong_status).failure or "")


def test_an_independent_jose_implementation_accepts_the_signature(proof_vectors: Vectors) -> None:
    node = shutil.which("node")
    assert node
    s = proof_vectors.scenario
    jwt = sign_jwt(lot_credential(s.ledger, s.lots[Material.LITHIUM], s.accounts["moe"]), s.accounts["moe"])
    script = (
        "const c=require('crypto');const [h,p,s]=process.argv[1].split('.');"
        "const hd=JSON.parse(Buffer.from(h,'base64url'));const k=c.createPublicKey({key:hd.jwk,format:'jwk'});"
        "const ok=c.verify('sha256',Buffer.from(h+'.'+p),{key:k,dsaEncoding:'ieee-p1363'},Buffer.from(s,'base64url'));"
        "const bad=c.verify('sha256',Buffer.from(h+'.'+p+'x'),{key:k,dsaEncoding:'ieee-p1363'},Buffer.from(s,'base64url'));"
        "process.stdout.write(JSON.stringify([hd.alg,ok,bad]))")
    out = subprocess.run([node, "-e", script, jwt], capture_output=True, text=True, check=True, timeout=60).stdout
    assert json.loads(out) == ["ES256K", True, False]


def test_cli_credential_export_and_verify(proof_vectors: Vectors, tmp_path: Path) -> None:
    s = proof_vectors.scenario
    deployment = tmp_path / "deployment.json"
    s.deployment.save(deployment)
    trust = tmp_path / "trust.json"
    trust.write_bytes(proof_vectors.items["battery-tainted"].trust_bytes)
    status = tmp_path / "status.json"
    status.write_bytes(proof_vectors.items["battery-tainted"].bundle)
    out = tmp_path / "claim.jwt"
    key = "0x" + bytes(s.accounts["motie"].key).hex()
    result = runner.invoke(app, ["credential", "export", "claim", str(s.claim_id), "--rpc", proof_vectors.node.url,
                                 "--deployment", str(deployment), "--key", "env:MOTIE_KEY", "--out", str(out),
                                 "--json-out", str(tmp_path / "claim.json")], env={"MOTIE_KEY": key})
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["credential", "verify", str(out), "--trust", str(trust)])
    assert result.exit_code == 0 and result.output.startswith("VERIFIED"), result.output
    result = runner.invoke(app, ["credential", "verify", str(out), "--trust", str(trust), "--status", str(status)])
    assert result.exit_code == 1 and "is tainted at block" in result.output
    result = runner.invoke(app, ["credential", "export", "lot", "1", "--rpc", proof_vectors.node.url,
                                 "--deployment", str(deployment), "--key", "env:MOTIE_KEY", "--out", str(out)],
                           env={"MOTIE_KEY": key})
    assert result.exit_code == 1 and "does not hold the MoE role" in result.output


def test_published_schemas_validate_the_files(proof_vectors: Vectors) -> None:
    bundle_schema = json.loads((SCHEMAS / "proof-bundle.schema.json").read_text())
    trust_schema = json.loads((SCHEMAS / "trust.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(bundle_schema)
    for name in ("battery-valid", "claim-valid", "battery-tainted"):
        v = proof_vectors.items[name]
        jsonschema.validate(json.loads(v.bundle), bundle_schema)
        jsonschema.validate(v.trust, trust_schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(json.loads(proof_vectors.items["header-hex-case"].bundle), bundle_schema)
    context = json.loads((SCHEMAS / "credentials-v1.jsonld").read_text())
    payload = _payload(sign_jwt(claim_credential(proof_vectors.scenario.ledger, proof_vectors.scenario.claim_id,
                                                 proof_vectors.scenario.accounts["motie"]),
                                proof_vectors.scenario.accounts["motie"]))
    subject, status = payload["credentialSubject"], payload["credentialStatus"]
    assert isinstance(subject, dict) and isinstance(status, dict)
    used = set(subject) | set(status)
    assert used - {"id", "type"} <= set(context["@context"]), "a term of the credential is missing from the context"
