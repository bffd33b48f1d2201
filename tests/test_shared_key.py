"""Several processes signing with one key: each keeps its own nonce counter, so they collide on nonces; a send the
node refuses for its nonce ("nonce too low", "replacement transaction underpriced") re-reads the pending nonce and
goes through. Real processes, one anvil node."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from chain_client.anvil import AnvilNode
from chain_client.backends import RpcBackend
from chain_client.keys import dev_accounts

SENDER = """
import sys
from web3 import Web3
from chain_client.backends import RpcBackend
from chain_client.keys import dev_accounts
from chain_client.transactions import TxSender
backend = RpcBackend(sys.argv[1])
sender = TxSender(backend.w3)
account, to = dev_accounts(30)[27], dev_accounts(30)[28]
for i in range(int(sys.argv[2])):  # each process sends its own transfers (distinct values: distinct transactions)
    sender.send(account, {"to": to.address, "value": int(sys.argv[3]), "gas": 21_000, "gasPrice": sender.gas_price,
                          "chainId": sender.chain_id})
print("ok")
"""


def test_several_processes_sign_with_one_key(anvil_node: AnvilNode, tmp_path: Path) -> None:
    backend = RpcBackend(anvil_node.url)
    account = dev_accounts(30)[27]
    before = backend.w3.eth.get_transaction_count(account.address)
    script = tmp_path / "sender.py"
    script.write_text(SENDER)
    root = Path(__file__).resolve().parents[1]
    procs = [subprocess.Popen([sys.executable, str(script), anvil_node.url, "15", str(n + 1)], cwd=root,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in range(3)]
    results = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0 and out.strip() == "ok", err[-2000:]
    assert backend.w3.eth.get_transaction_count(account.address) == before + 45
    # they did collide (each started from the same pending nonce) and recovered
    assert any("was taken by another sender" in err for _, err in results)


def test_an_act_whose_nonce_another_process_took_is_sent_again(anvil_node: AnvilNode) -> None:
    """Another process signing with the key replaces a pending act (same nonce, higher gas price): the waiting act
    notices its nonce was taken and is sent again with the next nonce, instead of waiting for a hash that will never
    be mined."""
    from web3.types import Wei

    from chain_client.transactions import TxSender

    backend = RpcBackend(anvil_node.url)
    w3 = backend.w3
    account, to, other_to = dev_accounts(30)[26], dev_accounts(30)[25], dev_accounts(30)[24]
    sender = TxSender(w3)
    start = w3.eth.get_transaction_count(account.address)
    received = w3.eth.get_balance(to.address)
    backend._rpc("evm_setAutomine", [False])
    try:
        pipeline = sender.pipeline(check=False)
        act = pipeline.add_transaction(account, {"to": to.address, "value": Wei(7), "gas": 21_000,
                                                 "gasPrice": sender.gas_price, "chainId": sender.chain_id})
        first = act.tx_hash
        rival = account.sign_transaction({"to": other_to.address, "value": 9, "gas": 21_000, "nonce": start,
                                          "gasPrice": 2 * sender.gas_price, "chainId": sender.chain_id})
        w3.eth.send_raw_transaction(rival.raw_transaction)  # replaces the act in the pool
        backend._rpc("evm_mine", [])
    finally:
        backend._rpc("evm_setAutomine", [True])
    receipt = act.result()
    assert receipt["status"] == 1 and act.tx_hash != first and int(act.tx["nonce"]) == start + 1
    assert w3.eth.get_transaction_count(account.address) == start + 2
    assert w3.eth.get_balance(to.address) == received + 7
