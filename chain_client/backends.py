"""Chain backends behind one interface: the embedded py-evm chain (default, nothing to start) or any JSON-RPC URL."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from urllib.parse import urlparse
from typing import Any, Protocol

import requests

from eth_account.signers.local import LocalAccount
from web3 import HTTPProvider, Web3

from chain_client.errors import LedgerError
from chain_client.failover import failover_web3, rpc_urls
from chain_client.keys import DEV_MNEMONIC, dev_accounts

log = logging.getLogger(__name__)

#: Seconds an RPC request may take before the node counts as not answering (``BLEDGER_RPC_TIMEOUT`` overrides it).
DEFAULT_RPC_TIMEOUT = 10.0
#: Attempts of a request the node refused (connection refused or reset): bounded, with back-off, each one logged.
#: A request that timed out is not repeated: the node is hanging, and waiting again would only double the wait.
CONNECT_ATTEMPTS = 3


#: Host names of this machine.
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class NodeUnavailable(LedgerError, ConnectionError):
    """The node refused the connection (after the bounded retries)."""


class NodeTimeout(LedgerError, TimeoutError):
    """The node accepted the request but did not answer within the timeout."""


def rpc_timeout() -> float:
    """The RPC timeout in seconds: ``BLEDGER_RPC_TIMEOUT`` or :data:`DEFAULT_RPC_TIMEOUT`."""
    text = os.environ.get("BLEDGER_RPC_TIMEOUT", "")
    try:
        value = float(text) if text else DEFAULT_RPC_TIMEOUT
    except ValueError:
        raise LedgerError(f"BLEDGER_RPC_TIMEOUT={text!r} is not a number of seconds") from None
    if not 0 < value <= 3_600:
        raise LedgerError(f"BLEDGER_RPC_TIMEOUT={text!r} must be between 0 and 3600 seconds")
    return value


class BoundedHTTPProvider(HTTPProvider):
    """An HTTP provider whose every request has a timeout, whose retries are bounded and logged, and whose failures
    are one clear error naming the node (:class:`NodeUnavailable`, :class:`NodeTimeout`)."""

    def __init__(self, url: str, timeout: float) -> None:
        session = None
        if urlparse(url).hostname in LOOPBACK:
            # a node on this machine is never reached through a proxy: skip requests' scan of the environment for
            # proxy settings, which it repeats on every request (~0.5 ms each, a tenth of a local node's send)
            session = requests.Session()
            session.trust_env = False
        super().__init__(url, request_kwargs={"timeout": timeout}, session=session, exception_retry_configuration=None)
        self.timeout = timeout

    def _make_request(self, method: Any, request_data: bytes) -> bytes:
        for attempt in range(1, CONNECT_ATTEMPTS + 1):
            try:
                return super()._make_request(method, request_data)
            except requests.exceptions.Timeout:
                raise NodeTimeout(f"the node at {self.endpoint_uri} did not answer {method} within {self.timeout:g} s "
                                  "(BLEDGER_RPC_TIMEOUT sets the limit)") from None
            except requests.exceptions.ConnectionError as exc:
                if attempt == CONNECT_ATTEMPTS:
                    raise NodeUnavailable(f"cannot reach the node at {self.endpoint_uri} ({method}, "
                                          f"{CONNECT_ATTEMPTS} attempts): {_reason(exc)}") from None
                pause = 0.25 * 2 ** (attempt - 1)
                log.warning("node %s refused %s (attempt %d of %d): retrying in %.2f s", self.endpoint_uri, method,
                            attempt, CONNECT_ATTEMPTS, pause)
                time.sleep(pause)
        raise AssertionError("unreachable")


def _reason(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Connection reset", "Name or service not known", "No route to host"):
        if marker in text:
            return marker.lower()
    return type(exc).__name__


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
        from eth_tester.exceptions import TransactionFailed
        from web3.exceptions import ContractLogicError
        from web3.providers.eth_tester import EthereumTesterProvider

        class SerializedProvider(EthereumTesterProvider):
            """py-evm is not thread-safe: one request at a time, so concurrent senders work as on a node."""

            _lock = threading.RLock()

            def make_request(self, method: Any, params: Any) -> Any:
                with self._lock:
                    try:
                        return super().make_request(method, params)
                    except TransactionFailed as exc:  # as web3 reports a node's revert (its data is decoded from
                        raise ContractLogicError(str(exc)) from exc  # the eth-tester error, the cause)

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
    """Any JSON-RPC node, or several nodes of one chain (a list or a comma list of URLs: failover, re-broadcast and
    K confirmations, see :mod:`chain_client.failover`). Snapshots and time travel need a dev node (anvil, Hardhat)."""

    name = "rpc"

    def __init__(self, url: str | Sequence[str], timeout: float | None = None,
                 confirmations: int | None = None) -> None:
        self.urls = rpc_urls(url)
        self.url = self.urls[0]
        self.w3 = failover_web3(self.urls, timeout=rpc_timeout() if timeout is None else timeout,
                                confirmations=confirmations, provider=BoundedHTTPProvider)

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


def connect(rpc_url: str | Sequence[str] | None = None) -> EmbeddedBackend | RpcBackend:
    """The embedded chain when ``rpc_url`` is None, else a JSON-RPC node (or several: a list or a comma list)."""
    return EmbeddedBackend() if rpc_url is None else RpcBackend(rpc_url)
