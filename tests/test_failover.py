"""The multi-node client (chain_client/failover.py) on real anvil nodes: failover, retried reads, re-broadcast of the
same signed bytes, K confirmations. (On a real Clique network: tests/test_network.py.)"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from web3 import Web3
from web3.types import RPCResponse, Wei

from chain_client.anvil import AnvilNode, free_port
from chain_client.backends import NodeUnavailable, RpcBackend
from chain_client.failover import AllNodesDown, FailoverProvider, rpc_urls
from chain_client.keys import dev_accounts
from chain_client.transactions import TxSender


def test_rpc_urls_accept_lists_and_comma_lists() -> None:
    assert rpc_urls("http://a:1, http://b:2,,") == ["http://a:1", "http://b:2"]
    assert rpc_urls(["http://a:1", "http://b:2,http://a:1"]) == ["http://a:1", "http://b:2"]
    with pytest.raises(ValueError, match="no RPC URL given"):
        rpc_urls(" , ")
    with pytest.raises(ValueError, match="'ws://x' is not an http"):
        rpc_urls("http://a:1,ws://x")
    with pytest.raises(ValueError, match="confirmations must be at least 1"):
        FailoverProvider("http://a:1", confirmations=0)


@pytest.fixture
def manual_nodes() -> Iterator[tuple[AnvilNode, AnvilNode]]:
    """Two anvils that mine only when told (same dev accounts, same chain id: a signed transaction fits both)."""
    with AnvilNode(extra_args=["--no-mining"]) as a, AnvilNode(extra_args=["--no-mining"]) as b:
        yield a, b


def test_reads_fail_over_from_a_dead_node(anvil_node: AnvilNode) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    backend = RpcBackend([dead, anvil_node.url])
    provider = backend.w3.provider
    assert isinstance(provider, FailoverProvider)
    assert backend.w3.eth.chain_id == 31337
    assert provider.current_url == anvil_node.url and provider.failovers == 1
    health = provider.health()
    assert [h.reachable for h in health] == [False, True] and health[1].head is not None
    assert provider.confirmations == 1  # anvil mines on demand: a receipt is final at once


def test_no_node_answering_is_a_clear_error() -> None:
    provider = FailoverProvider([f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"],
                                retry_for=0.5)
    with pytest.raises(AllNodesDown, match="no node answered eth_blockNumber"):
        Web3(provider).eth.block_number
    single = RpcBackend(f"http://127.0.0.1:{free_port()}")  # one node: its own error, without the failover's wait
    with pytest.raises(NodeUnavailable, match="cannot reach the node at"):
        single.w3.eth.block_number


def test_a_signed_transaction_is_rebroadcast_to_the_next_node_never_resigned(
        manual_nodes: tuple[AnvilNode, AnvilNode]) -> None:
    a, b = manual_nodes
    w3 = RpcBackend([a.url, b.url]).w3
    provider = w3.provider
    assert isinstance(provider, FailoverProvider)
    sender = TxSender(w3)
    payer, payee = dev_accounts(2)
    raw_sent: list[str] = []
    real_send = provider._send_raw

    def spy(params: Any) -> RPCResponse:
        raw_sent.append(params[0])
        return real_send(params)

    provider._send_raw = spy  # type: ignore[method-assign]
    result: dict[str, object] = {}

    def act() -> None:
        result["receipt"] = sender.send(payer, {"to": payee.address, "value": Wei(5), "gas": 21_000,
                                                "gasPrice": sender.gas_price, "chainId": sender.chain_id})

    thread = threading.Thread(target=act)
    thread.start()
    deadline = time.monotonic() + 10
    while not provider.pending() and time.monotonic() < deadline:
        time.sleep(0.05)
    (tx_hash,) = provider.pending()
    a.stop()  # node A dies holding the transaction, unmined
    b_w3 = Web3(Web3.HTTPProvider(b.url))
    deadline = time.monotonic() + 20
    while b_w3.eth.get_transaction_count(payer.address, "pending") == 0 and time.monotonic() < deadline:
        time.sleep(0.1)  # the waiting sender's receipt polls fail over to B and hand it the same bytes
    b_w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    thread.join(timeout=30)
    receipt = result["receipt"]
    assert receipt["transactionHash"].hex() == tx_hash.removeprefix("0x")  # type: ignore[index]
    assert len(raw_sent) == 1  # the signer signed once; the provider re-sent those bytes
    assert provider.rebroadcasts >= 1 and provider.current_url == b.url
    assert b_w3.eth.get_transaction_count(payer.address) == 1  # mined once


def test_receipts_wait_for_k_confirmations(manual_nodes: tuple[AnvilNode, AnvilNode]) -> None:
    node, _ = manual_nodes
    w3 = RpcBackend(node.url, confirmations=3).w3
    sender = TxSender(w3)
    payer, payee = dev_accounts(2)
    done = threading.Event()

    def act() -> None:
        sender.send(payer, {"to": payee.address, "value": Wei(5), "gas": 21_000, "gasPrice": sender.gas_price,
                            "chainId": sender.chain_id})
        done.set()

    thread = threading.Thread(target=act)
    thread.start()
    direct = Web3(Web3.HTTPProvider(node.url))
    while direct.eth.get_transaction_count(payer.address, "pending") == 0:
        time.sleep(0.05)
    direct.provider.make_request("evm_mine", [])  # type: ignore[arg-type]  # the act's block: 1 confirmation
    direct.provider.make_request("evm_mine", [])  # type: ignore[arg-type]  # 2
    assert not done.wait(1.0), "reported final after 2 of 3 confirmations"
    direct.provider.make_request("evm_mine", [])  # type: ignore[arg-type]  # 3
    assert done.wait(10.0)
    thread.join()


def test_a_node_that_falls_behind_is_left_while_a_transaction_waits(
        manual_nodes: tuple[AnvilNode, AnvilNode]) -> None:
    a, b = manual_nodes
    w3 = RpcBackend([a.url, b.url]).w3
    provider = w3.provider
    assert isinstance(provider, FailoverProvider)
    provider.rebroadcast_after = 0.3
    sender = TxSender(w3)
    payer, payee = dev_accounts(2)
    b_w3 = Web3(Web3.HTTPProvider(b.url))
    for _ in range(3):  # B is 3 blocks ahead of A, which answers but never mines (cut off, say)
        b_w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    result: dict[str, object] = {}

    def act() -> None:
        result["receipt"] = sender.send(payer, {"to": payee.address, "value": Wei(5), "gas": 21_000,
                                                "gasPrice": sender.gas_price, "chainId": sender.chain_id})

    thread = threading.Thread(target=act)
    thread.start()
    deadline = time.monotonic() + 20
    while b_w3.eth.get_transaction_count(payer.address, "pending") == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert provider.current_url == b.url and provider.failovers == 1
    b_w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    thread.join(timeout=30)
    assert result["receipt"]["blockNumber"] == 4  # type: ignore[index]
