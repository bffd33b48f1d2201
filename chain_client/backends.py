"""Chain backends behind one interface: the embedded py-evm chain (default, nothing to start) or any JSON-RPC URL."""

from __future__ import annotations

import threading
from typing import Any, Protocol

from eth_account.signers.local import LocalAccount
from web3 import Web3

from chain_client.keys import DEV_MNEMONIC, dev_accounts


class Backend(Protocol):
    """What the client needs from a chain beyond web3: dev accounts, snapshots and a clock."""

    name: str
    w3: Web3

    def funded_accounts(self, count: int) -> list[LocalAccount]: ...

    def snapshot(self) -> Any: ...

    def revert(self, snapshot_id: Any) -> None: ...

    def advance_time(self, seconds: int) -> None: ...


class EmbeddedBackend:
    """An in-process py-evm chain through eth-tester. Each instance is a fresh chain, funding the same dev
    accounts as anvil and Hardhat (:data:`chain_client.keys.DEV_MNEMONIC`)."""

    name = "embedded"
    FUNDED = 30

    def __init__(self) -> None:
        from eth_tester import EthereumTester, PyEVMBackend
        from web3.providers.eth_tester import EthereumTesterProvider

        class SerializedProvider(EthereumTesterProvider):
            """py-evm is not thread-safe: one request at a time, so concurrent senders work as on a node."""

            _lock = threading.RLock()

            def make_request(self, method: Any, params: Any) -> Any:
                with self._lock:
                    return super().make_request(method, params)

        backend = PyEVMBackend.from_mnemonic(DEV_MNEMONIC, num_accounts=self.FUNDED, hd_path="m/44'/60'/0'/0")
        self.tester = EthereumTester(backend)
        self.w3 = Web3(SerializedProvider(self.tester))

    def funded_accounts(self, count: int) -> list[LocalAccount]:
        if count > self.FUNDED:
            raise ValueError(f"the embedded chain funds {self.FUNDED} accounts, {count} asked")
        return dev_accounts(count)

    def snapshot(self) -> Any:
        return self.tester.take_snapshot()

    def revert(self, snapshot_id: Any) -> None:
        self.tester.revert_to_snapshot(snapshot_id)

    def advance_time(self, seconds: int) -> None:
        now = self.w3.eth.get_block("latest")["timestamp"]
        self.tester.time_travel(now + seconds)


class RpcBackend:
    """Any JSON-RPC node. Snapshots and time travel need a dev node (anvil, Hardhat)."""

    name = "rpc"

    def __init__(self, url: str, timeout: float = 60.0) -> None:
        self.url = url
        self.w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": timeout}))

    def funded_accounts(self, count: int) -> list[LocalAccount]:
        """The dev mnemonic's accounts (funded by anvil and Hardhat)."""
        return dev_accounts(count)

    def _rpc(self, method: str, params: list[Any]) -> Any:
        response = self.w3.provider.make_request(method, params)  # type: ignore[arg-type]
        if "error" in response:
            raise RuntimeError(f"{method} failed: {response['error']}")
        return response["result"]

    def snapshot(self) -> Any:
        return self._rpc("evm_snapshot", [])

    def revert(self, snapshot_id: Any) -> None:
        if self._rpc("evm_revert", [snapshot_id]) is not True:
            raise RuntimeError(f"evm_revert({snapshot_id}) refused")

    def advance_time(self, seconds: int) -> None:
        self._rpc("evm_increaseTime", [seconds])
        self._rpc("evm_mine", [])


def connect(rpc_url: str | None = None) -> EmbeddedBackend | RpcBackend:
    """The embedded chain when ``rpc_url`` is None, else a JSON-RPC node."""
    return EmbeddedBackend() if rpc_url is None else RpcBackend(rpc_url)
