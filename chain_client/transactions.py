"""Sending transactions: local signing, explicit gas, receipts, decoded reverts; pipelined streams of acts.

One path sends everything: a :class:`Pipeline` signs each act with the next local nonce and hands it to the node
without waiting, then awaits every receipt at the end (a fast poll on nodes that mine on demand). A single
:meth:`TxSender.submit` is a pipeline of one act.
"""

from __future__ import annotations

import copy
import functools
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any, Protocol, TypeVar, cast

from eth_abi import encode as abi_encode
from eth_abi.exceptions import EncodingError
from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from eth_utils import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import TimeExhausted, TransactionIndexingInProgress, TransactionNotFound
from web3.types import Nonce, TxParams, TxReceipt, Wei

from chain_client.errors import REVERT_EXCEPTIONS, LedgerError, as_revert, decode_revert, revert_data_of
from chain_client.input_checks import check_call_arguments
from chain_client.nonces import NonceManager

log = logging.getLogger(__name__)

#: Multiplier applied to the gas estimate.
GAS_MARGIN = 1.25
#: Attempts of a send the node refused because another process signing with the same key took the nonce.
NONCE_ATTEMPTS = 6
_NONCE_CONFLICTS = ("nonce too low", "replacement transaction underpriced", "already known", "nonce too high",
                    "transaction already imported", "invalid transaction nonce")
#: Seconds between receipt polls on a node that mines on demand (anvil, Hardhat) and on any other node.
FAST_POLL = 0.005
SLOW_POLL = 0.1
#: How often an act waiting for its receipt checks that another transaction did not take its nonce.
REPLACEMENT_CHECK_SECONDS = 1.0

#: Receipts asked in one JSON-RPC batch request.
RECEIPT_BATCH = 500
#: Client versions of nodes that mine each transaction as it arrives (see :mod:`chain_client.failover`).
_DEV_NODES = ("anvil", "hardhat", "ethereumtester", "ganache")


def nonce_conflict(exc: BaseException) -> bool:
    """Whether the node refused a transaction because its nonce was taken (another process, same key)."""
    text = str(exc).lower()
    return any(marker in text for marker in _NONCE_CONFLICTS)


class TransactionFailed(LedgerError):
    """A transaction was mined but failed without revert data we could recover."""


class Submitter(Protocol):
    """Submits a contract call on behalf of ``account`` and returns the mined receipt."""

    def submit(self, account: LocalAccount, call: ContractFunction, gas: int | None = None) -> TxReceipt: ...


class TxSender:
    """Signs locally with eth-account and sends raw transactions. Implements :class:`Submitter` directly;
    :meth:`pipeline` sends a stream of acts without waiting for each receipt."""

    def __init__(self, w3: Web3, nonces: NonceManager | None = None, timeout: float = 120.0) -> None:
        self.w3 = w3
        self.nonces = nonces or NonceManager(w3)
        self.timeout = timeout
        self.chain_id = w3.eth.chain_id
        self.gas_price = w3.eth.gas_price
        self._poll: float | None = None

    @property
    def poll_interval(self) -> float:
        """Seconds between receipt polls: :data:`FAST_POLL` on a node that mines on demand, else :data:`SLOW_POLL`
        (asked of the node once, and only when a receipt was not there at the first look)."""
        if self._poll is None:
            try:
                version = str(self.w3.client_version).lower().replace(" ", "")
            except Exception:  # noqa: BLE001 - a node without web3_clientVersion is not a dev node
                version = ""
            self._poll = FAST_POLL if version.startswith(_DEV_NODES) else SLOW_POLL
        return self._poll

    def estimate(self, account: str, call: ContractFunction) -> int:
        """Gas estimate of ``call`` from ``account``; a revert raises :class:`ContractRevert`, an integer argument out
        of its ABI type's range :class:`~chain_client.input_checks.InputError`."""
        check_call_arguments(call)
        try:
            return int(call.estimate_gas({"from": account}))
        except REVERT_EXCEPTIONS as exc:
            raise as_revert(exc) from None

    def pipeline(self, check: bool = True) -> Pipeline:
        """A stream of acts sent without waiting for each receipt: ``with sender.pipeline() as p: p.submit(...)``.
        Leaving the block awaits every receipt; with ``check`` it then raises :class:`ActsFailed` if any act
        failed (the others have landed)."""
        return Pipeline(self, check)

    def submit(self, account: LocalAccount, call: ContractFunction, gas: int | None = None) -> TxReceipt:
        """Sends ``call`` from ``account`` and returns its receipt: a pipeline of one act."""
        pipeline = self.pipeline(check=False)
        act = pipeline.add(account, call, gas)
        return act.result()

    def send(self, account: LocalAccount, tx: TxParams) -> TxReceipt:
        """Signs ``tx`` with the next nonce of ``account``, sends it and waits for the receipt."""
        return self.pipeline(check=False).add_transaction(account, tx).result()

    def build(self, account: LocalAccount, call: ContractFunction, gas: int | None = None) -> TxParams:
        """The transaction of ``call`` from ``account`` (gas estimated with a margin unless given; nonce left for
        :meth:`broadcast`). A call that would revert raises :class:`ContractRevert` here and nothing is sent."""
        check_call_arguments(call)
        if gas is None:
            gas = int(self.estimate(account.address, call) * GAS_MARGIN)
        params: TxParams = {"from": account.address, "gas": gas, "gasPrice": Wei(self.gas_price),
                            "chainId": self.chain_id, "nonce": Nonce(0)}
        data = calldata(call)
        if data is None:
            return call.build_transaction(params)
        return {**params, "to": call.address, "data": data, "value": Wei(0)}

    def broadcast(self, account: LocalAccount, tx: TxParams) -> tuple[TxParams, HexBytes]:
        """Signs ``tx`` with the next nonce of ``account`` and hands it to the node; returns the transaction as
        signed and its hash, without waiting.

        Other processes may sign with the same key: a send refused for its nonce ("nonce too low", "replacement
        transaction underpriced") re-reads the pending nonce and tries again, a bounded number of times."""
        for attempt in range(1, NONCE_ATTEMPTS + 1):
            try:
                with self.nonces.reserve(account.address) as nonce:
                    tx = {**tx, "nonce": Nonce(nonce)}
                    signed = account.sign_transaction(tx)  # type: ignore[arg-type]
                    tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
                return tx, HexBytes(tx_hash)
            except REVERT_EXCEPTIONS as exc:
                if attempt < NONCE_ATTEMPTS and nonce_conflict(exc):
                    pause = random.uniform(0.05, 0.2) * attempt
                    log.warning("nonce %s of %s was taken by another sender (%s): retrying with the pending nonce "
                                "in %.2f s (attempt %d of %d)", tx.get("nonce"), account.address, exc, pause,
                                attempt, NONCE_ATTEMPTS)
                    time.sleep(pause)
                    continue
                raise as_revert(exc) from None
        raise AssertionError("unreachable")

    def receipt(self, tx_hash: HexBytes) -> TxReceipt | None:
        """The receipt of ``tx_hash`` if it is mined (and final, on a node that counts confirmations), else None."""
        try:
            return self.w3.eth.get_transaction_receipt(tx_hash)
        except (TransactionNotFound, TransactionIndexingInProgress):  # a node just started indexes its history first
            return None

    def failure(self, tx: TxParams, receipt: TxReceipt) -> Exception:
        """Replays a failed transaction as a call on the state before its block to recover the revert data."""
        call: dict[str, Any] = {k: tx[k] for k in ("from", "to", "data", "value") if k in tx}  # type: ignore[literal-required]
        try:
            self.w3.eth.call(call, receipt["blockNumber"] - 1)  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001 - any failure carrying revert data is what we want
            data = revert_data_of(exc)
            if data is not None:
                return decode_revert(data)
        return TransactionFailed(f"transaction {receipt['transactionHash'].hex()} failed (gas used {receipt['gasUsed']})")



@functools.cache
def _encoder(signature: str, types: tuple[str, ...]) -> tuple[bytes, Callable[[Any], bytes]]:
    return keccak(text=signature)[:4], functools.partial(abi_encode, list(types))


def calldata(call: ContractFunction) -> HexStr | None:
    """The calldata of ``call`` encoded directly with eth-abi (web3's encoder re-resolves the ABI on every call,
    ~2 ms); None when the arguments need web3's normalisation (keyword arguments, structs given as dicts, hex
    strings for bytes ...), which then encodes as usual."""
    abi = call.abi
    if call.kwargs or abi.get("type") != "function":
        return None
    types = tuple(_abi_type(p) for p in abi.get("inputs", ()))
    selector, encode = _encoder(f"{abi['name']}({','.join(types)})", types)
    try:
        return HexStr("0x" + (selector + encode(call.args)).hex())
    except (EncodingError, TypeError, ValueError, OverflowError):
        return None


def _abi_type(param: Mapping[str, Any]) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        return f"({','.join(_abi_type(c) for c in param['components'])}){kind[5:]}"
    return kind


class Act(Mapping[str, Any]):
    """An act handed to the node. Reading it as a receipt (``act["status"]``, ``act.result()``) awaits the pipeline's
    receipts; a failed act raises its decoded error there."""

    def __init__(self, pipeline: Pipeline, position: int, signer: LocalAccount, tx: TxParams, tx_hash: HexBytes) -> None:
        self.pipeline = pipeline
        self.position = position
        self.signer = signer
        self.account = signer.address
        self.tx = tx
        self.tx_hash = tx_hash
        self.receipt: TxReceipt | None = None
        self.error: Exception | None = None
        self._on_failure: list[Callable[[Exception], None]] = []

    @property
    def done(self) -> bool:
        return self.receipt is not None

    @property
    def failed(self) -> bool:
        return self.error is not None

    def on_failure(self, hook: Callable[[Exception], None]) -> None:
        """Calls ``hook(error)`` if the act turns out to have failed (say, to forget a cached counter)."""
        self._on_failure.append(hook)

    def result(self) -> TxReceipt:
        """The receipt, once mined; a failed act raises its error (:class:`ContractRevert` when decodable)."""
        if self.receipt is None:
            self.pipeline.wait()
        if self.error is not None:
            raise self.error
        assert self.receipt is not None
        return self.receipt

    def _settle(self, receipt: TxReceipt) -> None:
        self.receipt = receipt
        if receipt["status"] != 1:
            self.error = self.pipeline.sender.failure(self.tx, receipt)
            for hook in self._on_failure:
                hook(self.error)

    def __getitem__(self, key: str) -> Any:
        return self.result()[key]  # type: ignore[literal-required]

    def __iter__(self) -> Iterator[str]:
        return iter(self.result())

    def __len__(self) -> int:
        return len(self.result())

    def __repr__(self) -> str:
        state = "failed" if self.failed else "mined" if self.done else "sent"
        return f"Act(#{self.position} 0x{self.tx_hash.hex()} {state})"


class ActsFailed(LedgerError):
    """Some acts of a pipeline failed (each with its decoded error); the others have landed."""

    def __init__(self, failed: list[Act], total: int) -> None:
        self.failed = failed
        self.errors = [act.error for act in failed]
        shown = "; ".join(f"act #{a.position}: {a.error}" for a in failed[:5])
        more = f"; and {len(failed) - 5} more" if len(failed) > 5 else ""
        super().__init__(f"{len(failed)} of {total} acts failed: {shown}{more}")


class Pipeline:
    """Acts sent one after another without waiting for their receipts; :meth:`wait` awaits them all.

    Each act is estimated (unless its gas is given) and built when added, so a call that would revert raises its
    :class:`ContractRevert` at once and is not sent; it then signs with the next local nonce of its account
    (:class:`~chain_client.nonces.NonceManager`) and is handed to the node. A mined act that failed is decoded by
    replaying it on the state before its block. A pipeline is itself a :class:`Submitter` whose receipts are
    :class:`Act` objects awaited on first read, so the typed clients run on it unchanged (``client.via(p)``)."""

    def __init__(self, sender: TxSender, check: bool = True) -> None:
        self.sender = sender
        self.check = check
        self.acts: list[Act] = []
        self._waiting: list[Act] = []

    def add(self, account: LocalAccount, call: ContractFunction, gas: int | None = None) -> Act:
        """Sends ``call`` from ``account`` (gas estimated unless given) and returns the act without waiting."""
        return self.add_transaction(account, self.sender.build(account, call, gas))

    def add_transaction(self, account: LocalAccount, tx: TxParams) -> Act:
        """Signs and sends a built transaction (nonce set here) and returns the act without waiting."""
        signed_tx, tx_hash = self.sender.broadcast(account, tx)
        act = Act(self, len(self.acts), account, signed_tx, tx_hash)
        self.acts.append(act)
        self._waiting.append(act)
        return act

    def submit(self, account: LocalAccount, call: ContractFunction, gas: int | None = None) -> TxReceipt:
        """:class:`Submitter`: as :meth:`add`, the act standing for its receipt."""
        return cast(TxReceipt, self.add(account, call, gas))

    def wait(self) -> list[Act]:
        """Awaits the receipt of every act sent so far; returns the acts that failed. Raises ``TimeExhausted`` when
        no new receipt came for the sender's timeout.

        Acts of one account are mined in nonce order, so it polls only the last act of each account; once that one
        is mined (and final), the earlier receipts are fetched in one batch request where the node takes batches."""
        while self._waiting:
            last: dict[str, Act] = {}
            for act in self._waiting:
                last[act.account] = act
            for act in last.values():
                self._await(act)
            rest = [a for a in self._waiting if not a.done]
            if rest:
                self._fetch(rest)
            self._waiting = [a for a in self._waiting if not a.done]
        return [a for a in self.acts if a.failed]

    def _await(self, act: Act) -> None:
        sender = self.sender
        started = checked = time.monotonic()
        while (receipt := sender.receipt(act.tx_hash)) is None:
            now = time.monotonic()
            if now - started > sender.timeout:
                raise TimeExhausted(f"transaction 0x{act.tx_hash.hex()} is not in the chain after "
                                    f"{sender.timeout:g} seconds")
            if now - checked > REPLACEMENT_CHECK_SECONDS:
                checked = now
                if self._replaced(act):  # another process signing with the key took its nonce: send it again
                    log.warning("nonce %s of %s was taken by another transaction before 0x%s was mined: sending it "
                                "again with the next nonce", act.tx.get("nonce"), act.account, act.tx_hash.hex())
                    act.tx, act.tx_hash = sender.broadcast(act.signer, act.tx)
                    started = time.monotonic()
                    continue
            time.sleep(sender.poll_interval)
        act._settle(receipt)

    def _replaced(self, act: Act) -> bool:
        """Whether ``act``'s transaction is unknown to the node while its account's nonce has moved past it (another
        transaction of the same key, from another process, took that nonce). A transaction the node knows, mined but
        not yet final or still pending, is not replaced."""
        w3 = self.sender.w3
        try:
            w3.eth.get_transaction(act.tx_hash)
            return False
        except TransactionNotFound:
            pass
        return int(w3.eth.get_transaction_count(act.account, "latest")) > int(act.tx["nonce"])

    def _fetch(self, acts: list[Act]) -> None:
        """Receipts of mined acts, in batches of :data:`RECEIPT_BATCH` (one by one on a node without batches)."""
        w3 = self.sender.w3
        for start in range(0, len(acts), RECEIPT_BATCH):
            chunk = acts[start:start + RECEIPT_BATCH]
            try:
                with w3.batch_requests() as batch:
                    for act in chunk:
                        batch.add(w3.eth.get_transaction_receipt(act.tx_hash))
                    receipts = batch.execute()
            except Exception:  # noqa: BLE001 - no batches here (or one not final yet): one by one
                for act in chunk:
                    self._await(act)
                continue
            for act, receipt in zip(chunk, receipts, strict=True):
                act._settle(cast(TxReceipt, receipt))

    def receipts(self) -> list[TxReceipt]:
        """Every act's receipt (awaited); raises :class:`ActsFailed` if any act failed."""
        failed = self.wait()
        if failed:
            raise ActsFailed(failed, len(self.acts))
        return [a.result() for a in self.acts]

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is not None:  # the block failed: still await what was sent, then let its error through
            try:
                self.wait()
            except Exception:  # noqa: BLE001 - the block's own error is the one to report
                log.exception("awaiting the acts sent before the error failed too")
            return
        failed = self.wait()
        if failed and self.check:
            raise ActsFailed(failed, len(self.acts))


C = TypeVar("C")


def pipeline_submitter(submitter: Submitter, pipeline: Pipeline) -> Submitter:
    """What ``submitter`` becomes when its sends go through ``pipeline``: the pipeline itself for direct sends, the
    same relayer sending through it for relayed ones (anything with a ``through(pipeline)`` method)."""
    if isinstance(submitter, TxSender | Pipeline):
        return pipeline
    through = getattr(submitter, "through", None)
    if through is None:
        raise TypeError(f"{type(submitter).__name__} cannot send through a pipeline")
    return cast(Submitter, through(pipeline))


def via(client: C, submitter: Submitter) -> C:
    """A shallow copy of a typed client whose writes go through ``submitter`` (see :func:`pipeline_submitter`)."""
    clone = copy.copy(client)
    clone.submit = submitter.submit  # type: ignore[attr-defined]
    clone.submitter = submitter  # type: ignore[attr-defined]
    return clone
