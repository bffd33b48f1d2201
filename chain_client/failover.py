"""One web3 provider over several nodes of the same chain: health checks, failover, retried reads, re-broadcast of
signed transactions and finality after K confirmations.

A client of a multi-validator network should not depend on one node. :class:`FailoverProvider` talks to one node
at a time (the *current* one, so that consecutive reads see one consistent chain) and moves to another when it stops
answering:

* **Failover and retried reads.** A request that fails at the transport level (connection refused or reset, timeout,
  HTTP error) marks the node down; the provider probes every node (``eth_blockNumber``), moves to the reachable one
  with the highest head (a node that is still catching up after a restart is not chosen over a synced one) and
  replays the request there; while a transaction waits for its receipt, a node that answers but has fallen more
  than ``lag_tolerance`` blocks behind the best one (cut off from its peers) is left the same way. Reads and other
  idempotent calls are replayed until ``retry_for`` seconds have passed;
  calls that must not run twice (``eth_sendTransaction``, dev-node ``evm_*`` / ``anvil_*`` / ``hardhat_*``) are not.
* **Nonce safety.** The provider never signs anything. ``eth_sendRawTransaction`` carries bytes signed once by the
  caller; the provider keeps them until their receipt is final and re-broadcasts *the same bytes* to the node it
  now uses when the node it sent them to went down, or when no receipt has appeared for ``rebroadcast_after``
  seconds (a node killed before it gossiped the transaction). The same signed transaction can be mined at most
  once, so a re-broadcast can never do an act twice; a node answering "already known" or "nonce too low" for a
  transaction it holds or has mined is a success.
* **Finality.** ``eth_getTransactionReceipt`` answers only once the receipt's block is ``confirmations`` deep on the
  canonical chain of the node asked (the head counts as one); until then it answers ``null`` as for a pending
  transaction, so every waiting caller (``wait_for_transaction_receipt``, the CLI, the relayer, the oracles)
  reports an act only once final. Default: 1 on dev nodes that mine on demand (anvil, Hardhat, the embedded
  chain), :data:`CLIQUE_CONFIRMATIONS` elsewhere.

Settings-friendly: ``rpc_urls("http://a,http://b")`` and ``rpc_urls(["http://a", "http://b"])`` both give the list,
so an environment variable, a CLI option repeated or a comma list, or a settings field all configure it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import requests
from eth_utils import keccak, to_bytes
from web3 import Web3
from web3.providers import HTTPProvider, JSONBaseProvider
from web3.types import RPCEndpoint, RPCResponse

from chain_client.errors import LedgerError

#: Confirmations before an act is final on a Clique network. Clique lets a sealer sign at most one of any
#: floor(N/2)+1 consecutive blocks, so the block of the act plus the next two carry three distinct sealers' work;
#: with 3 to 5 sealers that is a majority that built on the act (a competing branch would need that majority to
#: sign against its own chain). Clique's out-of-turn races reorganise one block, rarely two, never three here.
CLIQUE_CONFIRMATIONS = 3

#: Nodes that mine on demand: a receipt there is final at once (nothing else would ever be mined on top of it).
DEV_NODE_PREFIXES = ("anvil", "hardhat", "ethereumtester", "ganache")

#: Methods that must not be replayed on another node after a transport error: they may have taken effect.
NOT_REPLAYABLE = ("eth_sendTransaction", "evm_", "anvil_", "hardhat_", "personal_", "miner_")

NODE_ERRORS: tuple[type[BaseException], ...] = (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                                                requests.exceptions.HTTPError, ConnectionError, TimeoutError)


#: What a health probe reports as an unreachable or unusable node.
PROBE_ERRORS: tuple[type[BaseException], ...] = (*NODE_ERRORS, LedgerError, ValueError)


class AllNodesDown(LedgerError, ConnectionError):
    """No node answered within the retry window."""


def rpc_urls(value: str | Iterable[str]) -> list[str]:
    """A list of node URLs from one URL, a comma list, or a sequence of either (blanks dropped, order kept)."""
    items = [value] if isinstance(value, str) else list(value)
    urls = [u.strip() for item in items for u in item.split(",") if u.strip()]
    if not urls:
        raise ValueError("no RPC URL given")
    for u in urls:
        if not u.startswith(("http://", "https://")):
            raise ValueError(f"{u!r} is not an http(s) JSON-RPC URL")
    return list(dict.fromkeys(urls))


@dataclass
class NodeHealth:
    url: str
    reachable: bool
    head: int | None = None
    latency_ms: float | None = None
    error: str | None = None


@dataclass
class _Sent:
    raw: str  # 0x-hex of the signed transaction, exactly as the caller signed it
    node: int  # index of the node it was last handed to
    at: float  # monotonic time of that hand-over


class FailoverProvider(JSONBaseProvider):
    """A JSON-RPC provider over several nodes of one chain (see the module documentation)."""

    def __init__(self, urls: str | Iterable[str], *, timeout: float = 30.0, confirmations: int | None = None,
                 rebroadcast_after: float = 3.0, retry_for: float = 30.0, probe_timeout: float = 2.0,
                 provider: Callable[[str, float], JSONBaseProvider] | None = None) -> None:
        """``provider(url, timeout)`` makes the connection to one node (default: a plain HTTP provider; the
        backends pass their bounded one, whose own errors name the node)."""
        super().__init__()
        self.urls = rpc_urls(urls)
        if confirmations is not None and confirmations < 1:
            raise ValueError("confirmations must be at least 1")
        make = provider or (lambda url, t: HTTPProvider(url, request_kwargs={"timeout": t},
                                                        exception_retry_configuration=None))
        self._providers = [make(u, timeout) for u in self.urls]
        for node in self._providers:
            # web3 asks for the chain id before every call, estimate and send (its transaction validation): each node
            # answers it once, and its own (a node is never on another chain afterwards)
            node.cache_allowed_requests = True
            node.cacheable_requests = {RPCEndpoint("eth_chainId")}
        self._probes = [HTTPProvider(u, request_kwargs={"timeout": probe_timeout}, exception_retry_configuration=None)
                        for u in self.urls]
        self._confirmations = confirmations
        self.rebroadcast_after = rebroadcast_after
        self.retry_for = retry_for
        #: Blocks a node may be behind the best reachable one before a waiting transaction moves the client off it.
        self.lag_tolerance = 2
        self._current = 0
        self._sent: dict[str, _Sent] = {}
        self._lock = threading.RLock()
        #: How many times the provider moved to another node, and how many signed transactions it re-broadcast.
        self.failovers = 0
        self.rebroadcasts = 0

    def __str__(self) -> str:
        return f"failover over {', '.join(self.urls)} (current {self.current_url})"

    @property
    def current_url(self) -> str:
        return self.urls[self._current]

    # ---- health -------------------------------------------------------------------------------------------------
    def health(self) -> list[NodeHealth]:
        """Probes every node with ``eth_blockNumber``."""
        out = []
        for url, probe in zip(self.urls, self._probes, strict=True):
            start = time.monotonic()
            try:
                response = probe.make_request(RPCEndpoint("eth_blockNumber"), [])
                if "error" in response:
                    raise LedgerError(str(response["error"]))
                out.append(NodeHealth(url, True, int(str(response["result"]), 16), (time.monotonic() - start) * 1e3))
            except PROBE_ERRORS as exc:
                out.append(NodeHealth(url, False, error=str(exc) or type(exc).__name__))
        return out

    def _leave_if_behind(self) -> None:
        """Health check while a transaction waits: a node that answers but has fallen behind (cut off from its
        peers, still syncing) is left for the node with the highest head."""
        health = self.health()
        current = self._current
        best = max((h.head for h in health if h.reachable and h.head is not None), default=None)
        mine = health[current].head
        if best is not None and (mine is None or mine + self.lag_tolerance < best):
            self._failover(current)

    def _failover(self, failed: int) -> bool:
        """Moves to the reachable node with the highest head (preferring, on a tie, the first after the failed one);
        False when none answers."""
        health = self.health()
        n = len(self.urls)
        order = [(failed + 1 + k) % n for k in range(n)]
        best = None
        for i in order:
            h = health[i]
            if h.reachable and (best is None or (h.head or 0) > (health[best].head or 0)):
                best = i
        if best is None:
            return False
        with self._lock:
            if self._current == failed and best != failed:
                self.failovers += 1
            self._current = best
        return True

    # ---- requests -----------------------------------------------------------------------------------------------
    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        if method == "eth_sendRawTransaction":
            return self._send_raw(params)
        if method == "eth_getTransactionReceipt":
            return self._receipt(params)
        return self._call(method, params, replay=not method.startswith(NOT_REPLAYABLE))

    def make_batch_request(self, requests_: list[tuple[RPCEndpoint, Any]]) -> list[RPCResponse] | RPCResponse:
        """A batch goes to the current node as it is (no replay, no confirmation count: the pipeline asks in a batch
        only for receipts older than one it saw final); receipts found end the re-broadcast watch."""
        responses = self._providers[self._current].make_batch_request(requests_)
        if isinstance(responses, list):
            with self._lock:
                for (method, params), response in zip(requests_, responses, strict=False):
                    if method == "eth_getTransactionReceipt" and isinstance(response, dict) and response.get("result"):
                        key = str(params[0]) if isinstance(params[0], str) else "0x" + bytes(params[0]).hex()
                        self._sent.pop(key, None)
        return responses

    def _call(self, method: str, params: Any, replay: bool = True, node: int | None = None) -> RPCResponse:
        deadline = time.monotonic() + self.retry_for
        delay = 0.1
        while True:
            i = self._current if node is None else node
            try:
                return self._providers[i].make_request(RPCEndpoint(method), params)
            except NODE_ERRORS as exc:
                if len(self.urls) == 1:
                    raise  # one node: its own error (it names the node) as soon as it gives up
                moved = self._failover(i)
                if not replay or node is not None:
                    raise
                if not moved:
                    if time.monotonic() >= deadline:
                        raise AllNodesDown(f"no node answered {method} for {self.retry_for:.0f}s "
                                           f"({', '.join(self.urls)}): {exc}") from exc
                    time.sleep(delay)
                    delay = min(delay * 2, 2.0)

    def _send_raw(self, params: Any) -> RPCResponse:
        raw = params[0] if isinstance(params[0], str) else "0x" + bytes(params[0]).hex()
        tx_hash = "0x" + keccak(to_bytes(hexstr=raw)).hex()
        response = self._call("eth_sendRawTransaction", [raw])  # the same bytes: replaying them is harmless
        with self._lock:
            if "error" in response and not self._already_there(response, tx_hash):
                self._sent.pop(tx_hash, None)
                return response
            self._sent[tx_hash] = _Sent(raw, self._current, time.monotonic())
        if "error" in response:  # the node has this very transaction: its hash is the answer, not an error
            return {k: v for k, v in response.items() if k != "error"} | {"result": tx_hash}  # type: ignore[return-value]
        return response

    def _already_there(self, response: RPCResponse, tx_hash: str) -> bool:
        """Whether an error answer means the node already has this very transaction (pool or chain)."""
        message = str(response.get("error", {}).get("message", "")).lower()
        if "already known" in message or "known transaction" in message:
            return True
        if "nonce too low" in message:
            found = self._call("eth_getTransactionByHash", [tx_hash])
            return bool(found.get("result"))
        return False

    def _rebroadcast(self, tx_hash: str) -> None:
        with self._lock:
            sent = self._sent.get(tx_hash)
            due = sent is not None and (sent.node != self._current
                                        or time.monotonic() - sent.at >= self.rebroadcast_after)
            if not due or sent is None:
                return
            stale = sent.node == self._current
        if stale and len(self.urls) > 1:
            self._leave_if_behind()
        with self._lock:
            sent.node, sent.at = self._current, time.monotonic()
            self.rebroadcasts += 1
        try:
            self._call("eth_sendRawTransaction", [sent.raw])  # errors (already known, nonce too low) are fine here
        except AllNodesDown:
            pass

    def _receipt(self, params: Any) -> RPCResponse:
        tx_hash = str(params[0]) if isinstance(params[0], str) else "0x" + bytes(params[0]).hex()
        response = self._call("eth_getTransactionReceipt", [tx_hash])
        receipt = response.get("result")
        if "error" in response:
            return response
        if receipt is None:
            self._rebroadcast(tx_hash)
            return response
        k = self.confirmations
        if k > 1:
            head = int(str(self._call("eth_blockNumber", [])["result"]), 16)
            if head - int(str(receipt["blockNumber"]), 16) + 1 < k:
                return {**response, "result": None}
        with self._lock:
            self._sent.pop(tx_hash, None)
        return response

    @property
    def confirmations(self) -> int:
        """K: blocks (the act's own included) before a receipt is reported; detected once when not configured."""
        if self._confirmations is None:
            version = str(self._call("web3_clientVersion", []).get("result", "")).lower().replace(" ", "")
            self._confirmations = 1 if version.startswith(DEV_NODE_PREFIXES) else CLIQUE_CONFIRMATIONS
        return self._confirmations

    @confirmations.setter
    def confirmations(self, value: int) -> None:
        if value < 1:
            raise ValueError("confirmations must be at least 1")
        self._confirmations = value

    def pending(self) -> list[str]:
        """Hashes of signed transactions handed to a node whose final receipt was not seen yet."""
        with self._lock:
            return list(self._sent)


def failover_web3(urls: str | Sequence[str], **kwargs: Any) -> Web3:
    """A Web3 over :class:`FailoverProvider`, with the proof-of-authority extraData middleware (Clique, QBFT)."""
    from web3.middleware import ExtraDataToPOAMiddleware

    w3 = Web3(FailoverProvider(urls, **kwargs))
    w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    return w3
