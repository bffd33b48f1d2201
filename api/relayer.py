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

from eth_typing import HexStr
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from web3.exceptions import TransactionNotFound
from web3.types import Nonce, TxParams, TxReceipt, Wei

from api.chain import ChainContext
from api.forwarding import FORWARDER_OVERHEAD, as_tuple
from api.models import RelayRequest, utcnow
from api.problems import NODE_DOWN, jsonable
from chain_client.errors import REVERT_EXCEPTIONS, ContractRevert, as_revert
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
        with self._lock, Session(self.engine) as db:
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
        row.status = "failed"
        if isinstance(error, ContractRevert):
            row.error_name = error.name
            row.error_args = json.dumps(jsonable(error.args_by_name))
        else:
            row.error_name = type(error).__name__
        row.detail = str(error)
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
            for row in sorted(mine, key=lambda r: int(r.forwarder_nonce)):
                nonce = int(row.forwarder_nonce)
                if nonce < chain_nonce:
                    self._fail(db, row, ContractRevert("ForwarderNonceUsed", {"from": signer, "nonce": nonce}))
                    continue
                if nonce != expected:
                    break  # an earlier request of this signer is not sent yet: keep the nonce order
                gas = self._simulate(db, row, first=nonce == chain_nonce)
                if gas is None:
                    break  # refused (failed) or to be tried again once the earlier requests are mined
                chosen.append((row, gas))
                expected += 1
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
        for n, (row, _) in enumerate(chosen):
            if not self._broadcast(db, row):
                for later, _ in chosen[n + 1:]:  # their relayer nonces follow a refused one: sign them again
                    later.status, later.raw_tx, later.tx_hash = "queued", None, None
                    later.attempts -= 1
                    self._save(db, later)
                break
            broadcast.append(row)
        return broadcast

    def _simulate(self, db: Session, row: RelayRequest, first: bool) -> int | None:
        """The gas to relay ``row``, after simulating it: through the forwarder when it is its signer's next request
        (a refusal fails it, with the decoded error), else its call as the signer (its earlier requests are in
        flight; a refusal waits for them)."""
        ctx = self.ctx
        call = ctx.forwarder.functions.execute(as_tuple(row))
        if first:
            try:
                return int(call.estimate_gas({"from": ctx.relayer.address}) * GAS_MARGIN)
            except REVERT_EXCEPTIONS as exc:
                self._fail(db, row, as_revert(exc))
                return None
        try:
            ctx.w3.eth.call({"from": row.signer, "to": row.target, "data": HexStr(row.data)})  # type: ignore[typeddict-item]
        except REVERT_EXCEPTIONS:
            return None
        # what the signer allotted to the inner call (the forwarder keeps 1/63 back), the calldata, the forwarder's
        # own work (signature, nonce, event)
        calldata = 4 + 32 * 12 + len(row.data) // 2 + 128  # execute((from, to, value, gas, deadline, data, signature))
        return int((21_000 + 16 * calldata + int(row.gas) * 64 // 63 + FORWARDER_OVERHEAD) * GAS_MARGIN)

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
        try:
            return self.ctx.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        except TransactionNotFound:
            return None

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
        """Waits (up to the receipt timeout) for the receipts of the requests just broadcast, all together."""
        waiting = [r for r in rows if r.status == "sent" and r.tx_hash]
        deadline = time.monotonic() + self.receipt_timeout
        while waiting:
            still = []
            for row in waiting:
                receipt = self._receipt(str(row.tx_hash))
                if receipt is None:
                    still.append(row)
                else:
                    self._settle(db, row, receipt)
            waiting = still
            if not waiting or time.monotonic() >= deadline:
                return
            time.sleep(self.receipt_poll)

    def _settle(self, db: Session, row: RelayRequest, receipt: TxReceipt) -> None:
        row.block_number = int(receipt["blockNumber"])
        if receipt["status"] == 1:
            row.status = "mined"
            self._save(db, row)
            return
        sent = self.ctx.w3.eth.get_transaction(receipt["transactionHash"])
        tx: TxParams = {"from": self.ctx.relayer.address, "to": self.ctx.forwarder.address, "data": sent["input"]}
        self._fail(db, row, self.ctx.sender._failure(tx, receipt))

    def run_forever(self, stop: threading.Event, interval: float) -> None:
        while not stop.is_set():
            try:
                if self.run_once() == 0:
                    stop.wait(interval)
            except Exception:  # noqa: BLE001 - the loop must survive; the error is logged
                log.exception("relayer round failed")
                stop.wait(interval)
