"""Clique seal recovery and the Clique trust path against a real go-ethereum 1.13.15 Clique node (one sealer, chain
4242, forks through London at block 0), started in a temp dir on a free port and stopped after. The node seals on
demand (period 0) so that deploying the suite takes seconds, not a block a second; a proof bundle of a battery from
it, with confirmation headers, verifies against the pinned signer set in Python and in the browser verifier."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3
from web3.middleware import ExtraDataToPOAMiddleware, Web3Middleware

from chain_client.anvil import free_port
from chain_client.backends import RpcBackend
from chain_client.keys import dev_accounts
from chain_client.proofs import battery_bundle, bundle_bytes, trust_anchors
from chain_client.verification_demo import Scenario, build_scenario
from chain_client.verifier import load_trust, verify_bundle
from chain_client.headers import clique_seal_hash, clique_signer, decode_header, header_rlp
from chain_client.ledger_state import VerificationFailure
from chain_client.verifier import Trust, check_anchor, prove_value

GETH = Path.home() / ".cache" / "battery-ledger" / "geth-v1.13.15" / "bin" / "geth"
SEALER_KEY = "0x" + "4b" * 32  # a test-only key


class HeadCatchesUp(Web3Middleware):
    """geth (Clique, sealing on demand) can answer a transaction's receipt a moment before its block is the head that
    ``latest`` reads, and estimates against its pending block, which it rebuilds after a new head: estimate against
    ``latest``, and wait for the head after each receipt, so the next estimate or nonce sees the transaction."""

    def request_processor(self, method: Any, params: Any) -> Any:
        if method == "eth_estimateGas" and len(params) == 1:
            params = (params[0], "latest")
        return method, params

    def response_processor(self, method: Any, response: Any) -> Any:
        result = response.get("result") if isinstance(response, Mapping) else None
        if method == "eth_getTransactionReceipt" and isinstance(result, Mapping) and result.get("blockNumber"):
            raw = result["blockNumber"]
            number = int(raw, 16) if isinstance(raw, str) else int(raw)
            for _ in range(250):
                head = self._w3.provider.make_request("eth_blockNumber", [])  # type: ignore[arg-type]
                if int(head["result"], 16) >= number:
                    break
                time.sleep(0.02)
        return response


@dataclass
class CliqueNode:
    url: str
    w3: Web3
    signer: str
    backend: RpcBackend
    scenario: Scenario


def _genesis(signer: str, funded: list[str]) -> dict[str, object]:
    forks = ("homestead", "eip150", "eip155", "eip158", "byzantium", "constantinople", "petersburg", "istanbul",
             "berlin", "london")
    config: dict[str, object] = {"chainId": 4242, **{f"{f}Block": 0 for f in forks},
                                 "clique": {"period": 0, "epoch": 30000}}
    return {"config": config, "difficulty": "1", "gasLimit": "30000000",
            "extradata": "0x" + "00" * 32 + signer[2:].lower() + "00" * 65,
            "alloc": {a: {"balance": hex(10**24)} for a in [signer, *funded]}}


@pytest.fixture(scope="module")
def clique(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliqueNode]:
    assert GETH.is_file(), f"geth 1.13.15 not built at {GETH}: run ./scripts/setup (it builds and caches it)"
    d = tmp_path_factory.mktemp("clique")
    signer = Account.from_key(SEALER_KEY).address
    (d / "genesis.json").write_text(json.dumps(_genesis(signer, [a.address for a in dev_accounts(8)])))
    (d / "pw").write_text("test\n")
    (d / "key").write_text(SEALER_KEY[2:])
    datadir = str(d / "data")
    for args in (["init", "--datadir", datadir, str(d / "genesis.json")],
                 ["account", "import", "--lightkdf", "--datadir", datadir, "--password", str(d / "pw"), str(d / "key")]):
        subprocess.run([str(GETH), *args], check=True, capture_output=True, timeout=60)
    port = free_port()
    proc = subprocess.Popen(
        [str(GETH), "--datadir", datadir, "--networkid", "4242", "--port", "0", "--nodiscover", "--maxpeers", "0",
         "--ipcdisable", "--http", "--http.addr", "127.0.0.1", "--http.port", str(port),
         "--http.api", "eth,net,web3,clique", "--authrpc.port", str(free_port()), "--mine",
         "--miner.etherbase", signer, "--unlock", signer, "--password", str(d / "pw"), "--allow-insecure-unlock",
         "--lightkdf", "--syncmode", "full", "--verbosity", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}", request_kwargs={"timeout": 5}))
        deadline = time.monotonic() + 60
        while True:
            try:
                w3.eth.block_number
                break
            except Exception:  # noqa: BLE001 - not up yet
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"geth did not start: {proc.stderr.read().decode() if proc.stderr else ''}")
            time.sleep(0.2)
        backend = RpcBackend(f"http://127.0.0.1:{port}", confirmations=1)  # seals on demand: no block would follow
        w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)  # a Clique header's extra-data holds the seal
        for client in (w3, backend.w3):  # (RpcBackend reads proof-of-authority headers by itself)
            client.middleware_onion.add(HeadCatchesUp)
        scenario = build_scenario(backend, batteries=4)  # one block per transaction
        yield CliqueNode(f"http://127.0.0.1:{port}", w3, signer, backend, scenario)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _raw_header(node: CliqueNode, number: int) -> bytes:
    block = node.w3.provider.make_request("eth_getBlockByNumber", [hex(number), False])["result"]  # type: ignore[arg-type]
    raw = header_rlp(block)
    assert "0x" + decode_header(raw).hash.hex() == block["hash"]
    return raw


def _trust(signers: list[str], confirmations: int, min_block: int = 0) -> Trust:
    return Trust(4242, {"type": "clique", "signers": [s.lower() for s in signers], "confirmations": confirmations},
                 min_block, {}, {})


def test_geth_headers_hash_and_their_seals_recover_the_sealer(clique: CliqueNode) -> None:
    assert clique.w3.provider.make_request("clique_getSigners", [])["result"] == [clique.signer.lower()]  # type: ignore[arg-type]
    for number in (1, 2, 3):
        header = decode_header(_raw_header(clique, number))
        assert len(header.fields) == 16  # London: base fee is the last field
        assert clique_signer(header) == clique.signer.lower()
        assert clique_seal_hash(header) != header.hash


def test_clique_anchor_with_confirmations(clique: CliqueNode) -> None:
    head, *descendants = (_raw_header(clique, n) for n in (1, 2, 3))
    block = check_anchor(decode_header(head), descendants, _trust([clique.signer], 2))
    assert block["signer"] == clique.signer.lower() and block["number"] == 1
    assert block["anchor"] == f"Clique seal of {clique.signer.lower()}, 2 confirmations"


def test_clique_anchor_failures_are_named(clique: CliqueNode) -> None:
    head, d1, d2, d3 = (_raw_header(clique, n) for n in (1, 2, 3, 4))
    other = Account.create().address
    with pytest.raises(VerificationFailure, match=f"block 1 was sealed by {clique.signer.lower()}, not by a signer"):
        check_anchor(decode_header(head), [d1], _trust([other], 1))
    with pytest.raises(VerificationFailure, match="carries 1 confirmation headers, the trust file asks for 3"):
        check_anchor(decode_header(head), [d1], _trust([clique.signer], 3))
    with pytest.raises(VerificationFailure, match="confirmation header 1 does not follow block 1"):
        check_anchor(decode_header(head), [d2, d3], _trust([clique.signer], 2))
    with pytest.raises(VerificationFailure, match="older than block 9"):
        check_anchor(decode_header(head), [d1], _trust([clique.signer], 1, min_block=9))
    # one changed byte in the seal: the signature recovers another key (or none)
    h = decode_header(head)
    fields = list(h.fields)
    fields[12] = fields[12][:-10] + bytes([fields[12][-10] ^ 1]) + fields[12][-9:]
    import rlp

    forged = decode_header(rlp.encode(fields))
    with pytest.raises(VerificationFailure, match="not by a signer the trust file pins|does not recover"):
        check_anchor(forged, [], _trust([clique.signer], 0))


def test_account_proof_from_geth_holds_against_the_sealed_header(clique: CliqueNode) -> None:
    number = clique.w3.eth.block_number - 1
    header = decode_header(_raw_header(clique, number))
    proof = clique.w3.provider.make_request("eth_getProof", [clique.signer, [], hex(number)])["result"]  # type: ignore[arg-type]
    import rlp

    leaf = prove_value(header.state_root, bytes.fromhex(clique.signer[2:]),
                       [bytes.fromhex(p[2:]) for p in proof["accountProof"]], "the sealer's account")
    nonce, balance, _, _ = rlp.decode(leaf)
    assert int.from_bytes(balance, "big") == int(proof["balance"], 16) > 0


def _confirm(node: CliqueNode, blocks: int) -> None:
    """Seals ``blocks`` more blocks (one self-transfer each: the node seals on demand)."""
    account = dev_accounts(8)[7]
    w3 = node.w3
    nonce = w3.eth.get_transaction_count(account.address, "pending")
    for i in range(blocks):
        tx: dict[str, Any] = {"to": account.address, "value": 0, "gas": 21_000, "gasPrice": w3.eth.gas_price,
                              "nonce": nonce + i, "chainId": 4242}
        w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction))


def test_battery_bundle_from_clique_verifies_against_the_signer_set(clique: CliqueNode, tmp_path: Path) -> None:
    s = clique.scenario
    block = clique.w3.eth.block_number
    _confirm(clique, 2)
    bundle = battery_bundle(clique.w3, s.deployment, s.batteries[0], s.batteries, block=block, confirmations=2)
    trust = trust_anchors(clique.w3, s.deployment, bundle, confirmations=2)
    assert trust["anchor"] == {"type": "clique", "signers": [clique.signer.lower()], "confirmations": 2}
    data = bundle_bytes(bundle)
    verdict = verify_bundle(data, load_trust(json.dumps(trust).encode()))
    assert verdict.ok, verdict.failure
    assert (verdict.block or {})["anchor"] == f"Clique seal of {clique.signer.lower()}, 2 confirmations"
    assert (verdict.facts or {})["chainId"] == 4242 and len(bundle["descendants"]) == 2
    unknown = dict(trust, anchor=dict(trust["anchor"], signers=["0x" + "22" * 20]))
    assert verify_bundle(data, load_trust(json.dumps(unknown).encode())).failure == (
        f"block {block} was sealed by {clique.signer.lower()}, not by a signer the trust file pins")
    more = dict(trust, anchor=dict(trust["anchor"], confirmations=3))
    assert verify_bundle(data, load_trust(json.dumps(more).encode())).failure == (
        "the bundle carries 2 confirmation headers, the trust file asks for 3")
    # the browser verifier (the page's bundled script, under Node) gives the same verdicts
    import shutil
    import subprocess

    from chain_client.build import PROJECT_ROOT

    for name, t in (("clique", trust), ("clique-unknown", unknown)):
        (tmp_path / f"{name}.bundle.json").write_bytes(data)
        (tmp_path / f"{name}.trust.json").write_text(json.dumps(t))
    node = shutil.which("node")
    assert node
    out = subprocess.run([node, str(PROJECT_ROOT / "web" / "verify" / "tools" / "run-vectors.cjs"), str(tmp_path)],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    js = json.loads(out)
    assert js["clique"] == json.loads(json.dumps(verdict.as_dict()))
    assert js["clique-unknown"]["failure"] == verify_bundle(data, load_trust(json.dumps(unknown).encode())).failure
