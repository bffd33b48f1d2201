"""The relayer: sends the outbox's signed requests through the forwarder, exactly once, paying the gas.

Each request is signed into a raw transaction and stored (with its hash) *before* it is broadcast, so after a
crash or a node restart the same transaction is re-broadcast rather than a new one sent; the forwarder's per-signer
nonce refuses any second execution regardless.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any, cast

from eth_typing import HexStr
from hexbytes import HexBytes
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from web3.exceptions import TransactionNotFound
from web3.providers.eth_tester import EthereumTesterProvider
from web3.types import Nonce, RPCEndpoint, TxParams, TxReceipt, Wei

from api.chain import ChainContext
from api.forwarding import FORWARDER_OVERHEAD, as_tuple
from api.models import RelayRequest, utcnow
from api.problems import NODE_DOWN, jsonable
from chain_client.errors import REVERT_EXCEPTIONS, ContractRevert, as_revert, decode_revert, revert_data_of
from chain_client.transactions import GAS_MARGIN

log = logging.getLogger("api.relayer")


class Relayer:
    """Relays the outbox, pipelined: each round follows the requests in flight, then signs every request that can go
    (each signer's next one, and its successors in forwarder-nonce order when their simulation passes) with
    successive relayer nonces, stores all the signed transactions, broadcasts them without waiting for each receipt,
    and follows the receipts together."""

    def __init__(self, ctx: ChainContext, engine: Engine, receipt_timeout: float = 30.0,
                 receipt_poll: float = 0.02) -> None:
        self.ctx = ctx
        self.engine = engine
        self.receipt_timeout = receipt_timeout
        self.receipt_poll = receipt_poll
        self._lock = threading.Lock()

    def run_once(self) -> int:
        """Advances every request in flight; returns how many changed state. A node that cannot be reached leaves
        everything as it was (a transaction signed and stored is re-broadcast, never signed again)."""
        with self._lock, Session(self.engine, expire_on_commit=False) as db:  # the relayer writes these statuses
            rows = db.exec(select(RelayRequest).where(col(RelayRequest.status).in_(("queued", "sent")))
                           .order_by(col(RelayRequest.id))).all()
            before = {int(r.id or 0): r.status for r in rows}
            try:
                for row in rows:
                    if row.status == "sent":
                        self._follow(db, row)
                sent = self._send_all(db, [r for r in rows if r.status == "queued"],
                                      [r for r in rows if r.status == "sent"])
                self._follow_all(db, sent)
            except NODE_DOWN as exc:
                log.warning("node unreachable, relaying later: %s", exc)
                db.rollback()
            return sum(1 for r in rows if before[int(r.id or 0)] != r.status)

    def _fail(self, db: Session, row: RelayRequest, error: BaseException) -> None:
        if isinstance(error, ContractRevert) and error.name == "ERC2771ForwarderInvalidSigner":
            # The signature was checked when the request was accepted: the forwarder refuses it because its nonce was
            # not reached, when the signer's previous request failed (pipelined behind it). Say so.
            previous = db.exec(select(RelayRequest).where(RelayRequest.signer == row.signer,
                                                          RelayRequest.forwarder_nonce == int(row.forwarder_nonce) - 1,
                                                          RelayRequest.status == "failed")).first()
            if previous is not None:
                error = self._predecessor_failed(row, previous)
        row.status = "failed"
        if isinstance(error, ContractRevert):
            row.error_name = error.name
            row.error_args = json.dumps(jsonable(error.args_by_name))
        else:
            row.error_name = type(error).__name__
        row.detail = str(error)
        if isinstance(error, ContractRevert) and error.name == "RelayPredecessorFailed":
            row.detail = (f"request #{error.args_by_name['request']} of this signer (forwarder nonce "
                          f"{error.args_by_name['nonce']}) failed, so this request (nonce {row.forwarder_nonce}) can "
                          "never execute: prepare and sign it again")
        self._save(db, row)

    def _save(self, db: Session, row: RelayRequest) -> None:
        row.updated_at = utcnow()
        db.add(row)
        db.commit()
        db.refresh(row)

    # sending ----------------------------------------------------------------------------------------------------
    def _send_all(self, db: Session, queued: list[RelayRequest], in_flight: list[RelayRequest]) -> list[RelayRequest]:
        """Signs what can go now, stores it, then broadcasts it; returns the requests broadcast."""
        ctx = self.ctx
        if not queued:
            return []
        pending: dict[str, int] = {}  # per signer: how many of its requests are sent and not mined
        for row in in_flight:
            if row.status == "sent":
                pending[row.signer] = pending.get(row.signer, 0) + 1
        by_signer: dict[str, list[RelayRequest]] = {}
        for row in queued:
            by_signer.setdefault(row.signer, []).append(row)
        chosen: list[tuple[RelayRequest, int]] = []  # (request, gas)
        for signer, mine in by_signer.items():
            chain_nonce = int(ctx.forwarder.functions.nonces(signer).call())
            expected = chain_nonce + pending.get(signer, 0)
            if self._fail_after_failed_predecessor(db, signer, expected, mine):
                continue
            line: list[RelayRequest] = []  # the signer's requests that may go now, in nonce order
            for row in sorted(mine, key=lambda r: int(r.forwarder_nonce)):
                nonce = int(row.forwarder_nonce)
                if nonce < chain_nonce:
                    self._fail(db, row, ContractRevert("ForwarderNonceUsed", {"from": signer, "nonce": nonce}))
                    continue
                if nonce != expected + len(line):
                    break  # an earlier request of this signer is not sent yet: keep the nonce order
                line.append(row)
            if line and int(line[0].forwarder_nonce) == chain_nonce:  # the signer's next: through the forwarder
                gas = self._simulate(db, line[0])
                if gas is None:
                    continue  # refused: failed with the decoded error
                chosen.append((line[0], gas))
                line = line[1:]
            for row, passed in zip(line, self._simulate_after(line), strict=True):
                if not passed:
                    break  # to be tried again once the earlier requests are mined
                chosen.append((row, self._gas_after(row)))
        if not chosen:
            return []
        relayer_nonce = int(ctx.w3.eth.get_transaction_count(ctx.relayer.address, "pending"))
        for n, (row, gas) in enumerate(chosen):
            params: TxParams = {"from": ctx.relayer.address, "gas": gas, "gasPrice": Wei(ctx.sender.gas_price),
                                "chainId": ctx.chain_id, "nonce": Nonce(relayer_nonce + n)}
            call = ctx.forwarder.functions.execute(as_tuple(row))
            signed = ctx.relayer.sign_transaction(call.build_transaction(params))  # type: ignore[arg-type]
            row.raw_tx = "0x" + bytes(signed.raw_transaction).hex()
            row.tx_hash = "0x" + bytes(signed.hash).hex()
            row.status = "sent"
            row.attempts += 1
            row.updated_at = utcnow()
            db.add(row)
        db.commit()  # all stored before any broadcast: a crash from here on re-broadcasts the same transactions
        broadcast: list[RelayRequest] = []
        answers = self._batch([("eth_sendRawTransaction", [row.raw_tx]) for row, _ in chosen])
        if answers is not None:  # all sent in one round trip; a refused one is sent again alone to read why
            for row, answer in zip((r for r, _ in chosen), answers, strict=True):
                if "error" not in answer or self._broadcast(db, row):
                    broadcast.append(row)
            return broadcast
        for n, (row, _) in enumerate(chosen):
            if not self._broadcast(db, row):
                for later, _ in chosen[n + 1:]:  # their relayer nonces follow a refused one: sign them again
                    later.status, later.raw_tx, later.tx_hash = "queued", None, None
                    later.attempts -= 1
                    self._save(db, later)
                break
            broadcast.append(row)
        return broadcast

    def _fail_after_failed_predecessor(self, db: Session, signer: str, expected: int,
                                       mine: list[RelayRequest]) -> bool:
        """A signer's queued requests wait for the one with the forwarder nonce ``expected``; when that one failed (and
        none other of this nonce is queued or sent) they can never execute: each fails, naming it, and the signer signs
        again from that nonce. Returns whether it failed them."""
        if any(int(r.forwarder_nonce) == expected for r in mine):
            return False
        failed = db.exec(select(RelayRequest).where(RelayRequest.signer == signer,
                                                    RelayRequest.forwarder_nonce == expected,
                                                    RelayRequest.status == "failed")).first()
        if failed is None:
            return False
        later = [r for r in mine if int(r.forwarder_nonce) > expected]
        for row in later:
            self._fail(db, row, self._predecessor_failed(row, failed))
        return bool(later)

    @staticmethod
    def _predecessor_failed(row: RelayRequest, failed: RelayRequest) -> ContractRevert:
        return ContractRevert("RelayPredecessorFailed", {
            "from": row.signer, "nonce": int(failed.forwarder_nonce), "request": int(failed.id or 0)})

    def _simulate(self, db: Session, row: RelayRequest) -> int | None:
        """The gas to relay ``row``, its signer's next request, simulated through the forwarder: a refusal fails it
        with the decoded error."""
        ctx = self.ctx
        try:
            return int(ctx.forwarder.functions.execute(as_tuple(row)).estimate_gas({"from": ctx.relayer.address})
                       * GAS_MARGIN)
        except REVERT_EXCEPTIONS as exc:
            self._fail(db, row, as_revert(exc))
            return None

    def _simulate_after(self, rows: list[RelayRequest]) -> list[bool]:
        """Whether each request, whose signer has earlier requests in flight, passes as its call by the signer on
        the current state (all simulated in one round trip when the node takes batches)."""
        calls = [{"from": r.signer, "to": r.target, "data": r.data} for r in rows]
        answers = self._batch([("eth_call", [c, "latest"]) for c in calls])
        if answers is not None:
            return ["error" not in a for a in answers]
        passed = []
        for call in calls:
            try:
                self.ctx.w3.eth.call(cast(TxParams, call))
            except REVERT_EXCEPTIONS:
                passed.append(False)
            else:
                passed.append(True)
        return passed

    @staticmethod
    def _gas_after(row: RelayRequest) -> int:
        """Gas for a request not simulated through the forwarder (its signer's earlier requests are in flight): what
        the signer allotted to the inner call (the forwarder keeps 1/63 back), the calldata, the forwarder's own
        work (signature, nonce, event)."""
        calldata = 4 + 32 * 12 + len(row.data) // 2 + 128  # execute((from, to, value, gas, deadline, data, signature))
        return int((21_000 + 16 * calldata + int(row.gas) * 64 // 63 + FORWARDER_OVERHEAD) * GAS_MARGIN)

    def _batch(self, calls: list[tuple[str, list[Any]]]) -> list[dict[str, Any]] | None:
        """The raw answers to ``calls`` sent as one JSON-RPC batch, in order; None when there is at most one call or
        the node takes no batches (the embedded chain; a node refusing the batch as a whole)."""
        provider = self.ctx.w3.provider
        send = getattr(provider, "make_batch_request", None)
        if len(calls) < 2 or send is None or isinstance(provider, EthereumTesterProvider):
            return None
        answers = send([(RPCEndpoint(m), p) for m, p in calls])
        if not isinstance(answers, list) or len(answers) != len(calls):
            return None
        return sorted((cast(dict[str, Any], a) for a in answers), key=lambda a: int(a.get("id") or 0))

    def _broadcast(self, db: Session, row: RelayRequest) -> bool:
        """Sends the stored transaction; False when the node refused it (the request is queued again or failed)."""
        assert row.raw_tx is not None
        try:
            self.ctx.w3.eth.send_raw_transaction(HexStr(row.raw_tx))
        except NODE_DOWN:
            raise
        except Exception as exc:  # noqa: BLE001 - the node's refusal decides what follows
            text = str(exc).lower()
            if "already known" in text or "already imported" in text:
                return True
            if "nonce too low" in text or "nonce too high" in text:
                # another transaction took the relayer's nonce and ours never ran: sign it again
                row.status, row.raw_tx, row.tx_hash = "queued", None, None
                self._save(db, row)
                return False
            self._fail(db, row, as_revert(exc))
            return False
        return True

    # following --------------------------------------------------------------------------------------------------
    def _receipt(self, tx_hash: str) -> TxReceipt | None:
        return self.ctx.sender.receipt(HexBytes(tx_hash))  # None until mined (or while a new node indexes)

    def _follow(self, db: Session, row: RelayRequest) -> None:
        """One look at a request sent in an earlier round: its receipt, or a re-broadcast if the node lost it."""
        if row.status != "sent" or row.tx_hash is None:
            return
        receipt = self._receipt(row.tx_hash)
        if receipt is None:
            try:
                self.ctx.w3.eth.get_transaction(row.tx_hash)  # type: ignore[arg-type]
            except TransactionNotFound:
                self._broadcast(db, row)  # the node lost it (restart): the same signed transaction again
            if row.status != "sent":
                return
            receipt = self._receipt(row.tx_hash)
            if receipt is None:
                return
        self._settle(db, row, receipt)

    def _follow_all(self, db: Session, rows: list[RelayRequest]) -> None:
        """Waits (up to the receipt timeout) for the receipts of the requests just broadcast, all together; each
        pass over them is saved in one database transaction."""
        waiting = [r for r in rows if r.status == "sent" and r.tx_hash]
        deadline = time.monotonic() + self.receipt_timeout
        while waiting:
            still = []
            answers = self._batch([("eth_getTransactionReceipt", [r.tx_hash]) for r in waiting])
            for n, row in enumerate(waiting):
                found = None if answers is None else answers[n].get("result")
                if answers is not None and found is not None and found.get("status") == "0x1":
                    row.block_number, row.status, row.updated_at = int(found["blockNumber"], 16), "mined", utcnow()
                    db.add(row)
                    continue
                receipt = self._receipt(str(row.tx_hash)) if answers is None or found is not None else None
                if receipt is None:
                    still.append(row)
                else:
                    self._settle(db, row, receipt, commit=False)
            db.commit()
            waiting = still
            if not waiting or time.monotonic() >= deadline:
                return
            time.sleep(self.receipt_poll)

    def _settle(self, db: Session, row: RelayRequest, receipt: TxReceipt, commit: bool = True) -> None:
        row.block_number = int(receipt["blockNumber"])
        if receipt["status"] == 1:
            row.status = "mined"
            row.updated_at = utcnow()
            db.add(row)
            if commit:
                db.commit()
            return
        self._fail(db, row, self._why(receipt))

    def _why(self, receipt: TxReceipt) -> Exception:
        """Why a relayed transaction reverted: it is replayed as a call on the state after its block (earlier
        requests of its signer may have run in the same block: before it, its forwarder nonce would not be the next),
        else on the state before its block."""
        w3 = self.ctx.w3
        sent = w3.eth.get_transaction(receipt["transactionHash"])
        tx: TxParams = {"from": self.ctx.relayer.address, "to": self.ctx.forwarder.address, "data": sent["input"]}
        try:
            w3.eth.call(tx, receipt["blockNumber"])
        except Exception as exc:  # noqa: BLE001 - any failure carrying revert data is what we want
            data = revert_data_of(exc)
            if data is not None:
                return decode_revert(data)
        return self.ctx.sender.failure(tx, receipt)

    def run_forever(self, stop: threading.Event, interval: float) -> None:
        while not stop.is_set():
            try:
                if self.run_once() == 0:
                    stop.wait(interval)
            except Exception:  # noqa: BLE001 - the loop must survive; the error is logged
                log.exception("relayer round failed")
                stop.wait(interval)
