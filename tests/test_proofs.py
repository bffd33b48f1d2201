"""Proof bundles from a real anvil node and their offline verification: slots derived from solc's storage layout
match the contracts' getters, valid bundles verify with the facts the contracts compute, and every tampering (and
any single changed byte) fails with the failure named."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from chain_client import build, ledger_state, vocabulary
from chain_client.cli import app
from chain_client.ledger_state import StateView, battery_key, read_state
from chain_client.proofs import battery_bundle, bundle_bytes, trust_anchors
from chain_client.storage_slots import LayoutError, reduce_variable, verifier_layout
from chain_client.verifier import load_trust, verify_bundle
from chain_client.vocabulary import Material
from tests.vectors import Vectors, python_verdict

runner = CliRunner()


class _NodeReader:
    """Reads storage straight from the node (no proofs): checks only where the slots are."""

    def __init__(self, vectors: Vectors) -> None:
        self.w3 = vectors.backend.w3
        self.contracts = vectors.scenario.deployment.contracts

    def read(self, contract: str, slot: int, what: str) -> bytes:
        address = self.w3.to_checksum_address(self.contracts[contract])
        return bytes(self.w3.eth.get_storage_at(address, slot)).rjust(32, b"\x00")


def _trust(vectors: Vectors, **changes: Any) -> Any:
    return load_trust(json.dumps(dict(vectors.trust, **changes)).encode())


def test_slots_from_the_layout_match_the_getters(proof_vectors: Vectors) -> None:
    s = proof_vectors.scenario
    ledger = s.ledger
    battery = s.batteries[0]
    state = read_state(StateView(verifier_layout(), _NodeReader(proof_vectors)), s.claim_id, battery)
    claim = ledger.claims.claim(s.claim_id)
    assert (state.claim["claimant"], state.claim["status"], state.claim["custodyModel"]) == (
        int(claim.claimant, 16), claim.status, claim.custody_model)
    assert (state.claim["openedAt"], state.claim["decidedAt"], state.claim["periodStart"], state.claim["periodEnd"]) \
        == (claim.opened_at, claim.decided_at, claim.period_start, claim.period_end)
    for name, expected in (("batteryModel", claim.battery_model), ("plant", claim.plant),
                           ("batteriesRoot", claim.batteries_root), ("evidenceHash", claim.evidence_hash)):
        assert state.claim[name].to_bytes(32, "big") == expected, name
    assert [(a["lotId"], a["grams"], a["material"], a["feedstock"]) for a in state.allocations] == [
        (a.lot_id, a.grams, a.material, a.feedstock) for a in ledger.claims.allocations(s.claim_id)]
    shares = ledger.claims.shares(s.claim_id)
    assert state.claim["allocationCount"] == len(state.allocations) == claim.allocation_count
    for m, content_grams in enumerate(state.content):
        share = shares.get(Material(m))
        assert content_grams == (share.content_grams if share else 0)
    for lot_id, lot in state.lots.items():
        onchain = ledger.certificates.lot(lot_id)
        assert (lot["recycler"], lot["material"], lot["feedstock"], lot["status"], lot["decidedAt"]) == (
            int(onchain.recycler, 16), onchain.material, onchain.feedstock, onchain.status, onchain.decided_at)
    model = ledger.passports.model(claim.battery_model)
    assert (state.model["manufacturer"], state.model["category"], state.model["ratedEnergyWh"]) == (
        int(model.manufacturer, 16), model.category, model.rated_energy_wh)
    record = ledger.passports.battery(battery_key(battery))
    assert (state.battery or {})["modelId"].to_bytes(32, "big") == record.model_id
    assert (state.battery or {})["status"] == record.status
    targets = ledger.claims.targets.functions
    assert state.years == ledger.claims.milestone_years()
    for year in state.years:
        effective, minimums = targets.milestone(year).call()
        assert (state.milestones[year]["effectiveFrom"], state.milestones[year]["minimumBps"]) == (
            effective, list(minimums))
    assert state.scope_from == targets.scopeFrom(state.model["category"]).call()
    assert state.industrial_threshold_wh == targets.industrialThresholdWh().call()
    assert state.custody_counts == targets.custodyModelCounts(state.claim["custodyModel"]).call()


def test_layout_comes_from_solc_and_a_missing_variable_is_named() -> None:
    layouts = build.load_storage_layouts()
    assert verifier_layout()["UsageAttestations"]["_claims"]["slot"] == next(
        int(v["slot"]) for v in layouts["UsageAttestations"]["storage"] if v["label"] == "_claims")
    with pytest.raises(LayoutError, match="UsageAttestations has no state variable _gone"):
        reduce_variable(layouts["UsageAttestations"], "UsageAttestations", "_gone", ("value",))
    with pytest.raises(LayoutError, match="_claims has no field nope"):
        reduce_variable(layouts["UsageAttestations"], "UsageAttestations", "_claims", ("status", "nope"))


def test_enum_names_follow_the_vocabulary() -> None:
    assert len(ledger_state.MATERIALS) == len(vocabulary.Material)
    assert [m.symbol for m in vocabulary.Material] == list(ledger_state.MATERIALS)
    assert len(ledger_state.CLAIM_STATUSES) == len(vocabulary.ClaimStatus)
    assert len(ledger_state.LOT_STATUSES) == len(vocabulary.LotStatus)
    assert [c.name for c in vocabulary.BatteryCategory] == [c.upper() for c in ledger_state.CATEGORIES]


def test_valid_battery_bundle_gives_what_the_contracts_compute(proof_vectors: Vectors) -> None:
    v = proof_vectors.items["battery-valid"]
    verdict = verify_bundle(v.bundle, load_trust(v.trust_bytes))
    assert verdict.ok, verdict.failure
    facts = verdict.facts or {}
    s = proof_vectors.scenario
    block = (verdict.block or {})["number"]
    usage = s.ledger.claims.contract.functions
    for year in (2031, 2036):  # what compliance() returned at the bundle's block
        attested, tainted, in_scope, counts, meets, shares, minimums = usage.compliance(s.claim_id, year).call(
            block_identifier=block)
        eu = facts["eu"][str(year)]
        assert (eu["meets"], eu["inScope"], attested, tainted) == (meets, in_scope, True, False)
        for m, symbol in enumerate(ledger_state.MATERIALS[:3]):
            assert (eu["metals"][symbol]["shareBps"], eu["metals"][symbol]["minimumBps"]) == (shares[m], minimums[m])
    onchain = usage.metalShares(s.claim_id).call(block_identifier=block)
    for m, symbol in enumerate(ledger_state.MATERIALS[:3]):
        assert facts["shares"][symbol]["shareBps"] == onchain[m][3]
        assert facts["shares"][symbol]["preConsumerBps"] == onchain[m][4]
    assert facts["eu"]["2031"]["meets"] is True and facts["eu"]["2036"]["meets"] is False
    assert facts["shares"]["Li"]["shareBps"] == 60 * 10_000 // 700
    assert facts["shares"]["Ni"] == {"contentGrams": "5000000", "preConsumerGrams": "400000",
                                     "postConsumerGrams": "0", "shareBps": 800, "preConsumerBps": 800,
                                     "postConsumerBps": 0}
    assert facts["battery"]["covered"] is True and facts["battery"]["identifier"] == s.batteries[1]
    assert facts["battery"]["record"] is True and facts["battery"]["batch"] is None
    covers = usage.covers(s.claim_id, battery_key(s.batteries[1]),
                          [bytes.fromhex(p[2:]) for p in json.loads(v.bundle)["subject"]["batteriesProof"]])
    assert covers.call(block_identifier=block) is True
    assert [lot["status"] for lot in facts["lots"]] == ["Certified"] * 3
    assert (verdict.block or {})["anchor"] == "pinned block hash"


def test_valid_claim_bundle(proof_vectors: Vectors) -> None:
    v = proof_vectors.items["claim-valid"]
    verdict = verify_bundle(v.bundle, load_trust(v.trust_bytes))
    assert verdict.ok, verdict.failure
    assert "battery" not in (verdict.facts or {})


def test_battery_anchored_in_a_batch_is_proven_into_it(proof_vectors: Vectors) -> None:
    v = proof_vectors.items["battery-in-batch"]
    verdict = verify_bundle(v.bundle, load_trust(v.trust_bytes))
    assert verdict.ok, verdict.failure
    battery = (verdict.facts or {})["battery"]
    assert (battery["record"], battery["batch"], battery["inBatch"], battery["covered"]) == (False, 1, True, True)
    assert battery["identifier"] == proof_vectors.scenario.batteries[5]
    assert json.loads(v.bundle)["subject"]["batch"]["batchId"] == 1


def test_every_vector_gives_its_verdict(proof_vectors: Vectors) -> None:
    for v in proof_vectors.items.values():
        verdict = python_verdict(v.bundle, v.trust_bytes)
        if v.failure is None:
            assert verdict["ok"], f"{v.name}: {verdict['failure']}"
        else:
            assert not verdict["ok"] and v.failure in (verdict["failure"] or ""), f"{v.name}: {verdict['failure']}"


def test_any_changed_byte_fails(proof_vectors: Vectors) -> None:
    v = proof_vectors.items["battery-valid"]
    trust = load_trust(v.trust_bytes)
    rng = random.Random(12)
    positions = rng.sample(range(len(v.bundle)), 250)
    for pos in positions:
        data = bytearray(v.bundle)
        data[pos] = rng.choice([c for c in b"0123456789abcdef\" {}:,x" if c != data[pos]])
        verdict = verify_bundle(bytes(data), trust)
        assert not verdict.ok, f"byte {pos} changed to {chr(data[pos])!r} still verifies"


def test_prover_refuses_what_it_cannot_prove(proof_vectors: Vectors) -> None:
    s = proof_vectors.scenario
    from chain_client.errors import LedgerError

    with pytest.raises(LedgerError, match="not in the list of batteries"):
        battery_bundle(proof_vectors.backend.w3, s.deployment, "KR:KCELL:EV:0000099", s.batteries)
    with pytest.raises(LedgerError, match="claim #7 does not exist on chain"):
        battery_bundle(proof_vectors.backend.w3, s.deployment, s.batteries[0], s.batteries, claim_id=7)


def test_cli_prove_and_verify(proof_vectors: Vectors, tmp_path: Path) -> None:
    s = proof_vectors.scenario
    deployment, batteries = tmp_path / "deployment.json", tmp_path / "batteries.txt"
    s.deployment.save(deployment)
    batteries.write_text("\n".join(s.batteries) + "\n")
    bundle, trust = tmp_path / "bundle.json", tmp_path / "trust.json"
    result = runner.invoke(app, ["prove", "battery", s.batteries[2], "--rpc", proof_vectors.node.url,
                                 "--deployment", str(deployment), "--batteries", str(batteries),
                                 "--out", str(bundle), "--trust-out", str(trust)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["verify", str(bundle), "--trust", str(trust)])
    # the fixture revoked the cobalt lot before this test: the claim is tainted now
    assert result.exit_code == 1, result.output
    assert "FAILED: claim #1 is tainted" in result.output
    assert f"battery   {s.batteries[2]}" in result.output
    result = runner.invoke(app, ["verify", str(tmp_path / "missing.json"), "--trust", str(trust)])
    assert result.exit_code == 1 and "cannot read" in result.output
    good = tmp_path / "good.json"
    good.write_bytes(proof_vectors.items["battery-valid"].bundle)
    good_trust = tmp_path / "good-trust.json"
    good_trust.write_bytes(proof_vectors.items["battery-valid"].trust_bytes)
    result = runner.invoke(app, ["verify", str(good), "--trust", str(good_trust)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("VERIFIED") and "EU 2031   meets the minimums" in result.output
    result = runner.invoke(app, ["verify", str(good), "--trust", str(good_trust), "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["ok"] is True
    trust_json = json.loads(trust.read_text())
    assert trust_json["anchor"]["type"] == "block" and trust_json["layout"] == verifier_layout()


def test_trust_file_errors_are_named(proof_vectors: Vectors) -> None:
    from chain_client.ledger_state import VerificationFailure

    with pytest.raises(VerificationFailure, match="not valid JSON"):
        load_trust(b"{")
    with pytest.raises(VerificationFailure, match="does not pin BatteryPassports"):
        _trust(proof_vectors, contracts={})
    with pytest.raises(VerificationFailure, match="signer set is empty"):
        _trust(proof_vectors, anchor={"type": "clique", "signers": [], "confirmations": 1})


def test_bundle_bytes_are_canonical(proof_vectors: Vectors) -> None:
    assert bundle_bytes(proof_vectors.valid) == proof_vectors.items["battery-valid"].bundle
    t = trust_anchors(proof_vectors.backend.w3, proof_vectors.scenario.deployment, proof_vectors.valid)
    assert t["anchor"] == proof_vectors.trust["anchor"]


def test_browser_verifier_reads_the_same_variables(tmp_path: Path) -> None:
    import shutil
    import subprocess

    from chain_client.build import PROJECT_ROOT
    from chain_client.storage_slots import NEEDED

    node = shutil.which("node")
    assert node
    script = ("const fs=require('fs');const c=fs.readFileSync(process.argv[1],'utf8');"
              "process.stdout.write(JSON.stringify(new Function(c+';return BatteryLedgerVerifier;')().NEEDED))")
    out = subprocess.run([node, "-e", script, str(PROJECT_ROOT / "web" / "verify" / "verifier.bundle.js")],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    assert json.loads(out) == {c: {label: list(f) for label, f in v.items()} for c, v in NEEDED.items()}


def test_prove_from_the_battery_index(proof_vectors: Vectors, tmp_path: Path) -> None:
    """What the portal does: the battery's imported batch (from the index) gives the claim's battery list."""
    from chain_client.battery_index import BatteryIndex, IndexedBatch
    from chain_client.ledger_state import battery_key as key
    from chain_client.merkle import MerkleTree

    s = proof_vectors.scenario
    data = tmp_path / "data"
    data.mkdir()
    batch_file = data / "batch-1.txt"
    batch_file.write_text("\n".join(s.batteries))
    index = BatteryIndex(data / "index.sqlite")
    root = MerkleTree(key(b) for b in s.batteries).root
    with index.transaction():
        index.add_batch(IndexedBatch(root, 1, "model", len(s.batteries), "test", 1, len(s.batteries), batch_file),
                        "test")
        index.add_batteries((key(b), b, root, "test") for b in s.batteries)
    index.close()
    deployment = tmp_path / "deployment.json"
    s.deployment.save(deployment)
    out, trust = tmp_path / "bundle.json", tmp_path / "trust.json"
    result = runner.invoke(app, ["prove", "battery", s.batteries[6], "--rpc", proof_vectors.node.url,
                                 "--deployment", str(deployment), "--data", str(data), "--out", str(out),
                                 "--trust-out", str(trust)])
    assert result.exit_code == 0, result.output
    verdict = verify_bundle(out.read_bytes(), load_trust(trust.read_bytes()))
    assert (verdict.facts or {})["battery"]["batch"] == 1 and (verdict.facts or {})["battery"]["inBatch"] is True
    assert verdict.failure == f"claim #1 is tainted: lot #{s.lots[Material.COBALT]} was revoked"  # revoked by now
    result = runner.invoke(app, ["prove", "battery", "KR:OTHER:1", "--rpc", proof_vectors.node.url,
                                 "--deployment", str(deployment), "--data", str(data), "--out", str(out)])
    assert result.exit_code == 1 and "is not in any imported batch" in result.output
    result = runner.invoke(app, ["prove", "battery", s.batteries[6], "--rpc", proof_vectors.node.url,
                                 "--deployment", str(deployment), "--data", str(tmp_path / "none"), "--out", str(out)])
    assert result.exit_code == 1 and "no battery index" in result.output
