"""The relayer: sends the outbox's signed requests through the forwarder, exactly once, paying the gas.

Each request is signed into a raw transaction and stored (with its hash) *before* it is broadcast, so after a
crash or a node restart the same transaction is re-broadcast rather than a new one sent; the forwarder's per-signer
nonce refuses any second execution regardless.
"""

from __future__ import annotations

import json
import logging
import threading

from eth_typing import HexStr
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from web3.exceptions import TimeExhausted, TransactionNotFound
from web3.types import Nonce, TxParams, Wei

from api.chain import ChainContext
from api.forwarding import as_tuple
from api.models import RelayRequest, utcnow
from api.problems import NODE_DOWN, jsonable
from chain_client.errors import REVERT_EXCEPTIONS, ContractRevert, as_revert
from chain_client.transactions import GAS_MARGIN

log = logging.getLogger("api.relayer")


class Relayer:
    def __init__(self, ctx: ChainContext, engine: Engine, receipt_timeout: float = 30.0) -> None:
        self.ctx = ctx
        self.engine = engine
        self.receipt_timeout = receipt_timeout
        self._lock = threading.Lock()

    def run_once(self) -> int:
        """Advances every request in flight by one step; returns how many changed state. A node that cannot be
        reached leaves everything as it was."""
        with self._lock, Session(self.engine) as db:
            rows = db.exec(select(RelayRequest).where(col(RelayRequest.status).in_(("queued", "sent")))
                           .order_by(col(RelayRequest.id))).all()
            changed = 0
            blocked: set[str] = set()
            for row in rows:
                if row.signer in blocked:
                    continue
                try:
                    before = row.status
                    if row.status == "sent":
                        self._follow(db, row)
                    else:
                        self._send(db, row)
                    changed += row.status != before
                except NODE_DOWN as exc:
                    log.warning("node unreachable, relaying later: %s", exc)
                    return changed
                if row.status in ("queued", "sent"):
                    blocked.add(row.signer)  # keep each signer's requests in nonce order
            return changed

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

    def _send(self, db: Session, row: RelayRequest) -> None:
        ctx = self.ctx
        chain_nonce = int(ctx.forwarder.functions.nonces(row.signer).call())
        if chain_nonce > int(row.forwarder_nonce):
            self._fail(db, row, ContractRevert("ForwarderNonceUsed", {"from": row.signer,
                                                                      "nonce": int(row.forwarder_nonce)}))
            return
        if chain_nonce < int(row.forwarder_nonce):
            return  # an earlier request of this signer is not mined yet
        call = ctx.forwarder.functions.execute(as_tuple(row))
        try:
            gas = int(call.estimate_gas({"from": ctx.relayer.address}) * GAS_MARGIN)
        except REVERT_EXCEPTIONS as exc:
            self._fail(db, row, as_revert(exc))
            return
        nonce = ctx.w3.eth.get_transaction_count(ctx.relayer.address, "pending")
        params: TxParams = {"from": ctx.relayer.address, "gas": gas, "gasPrice": Wei(ctx.sender.gas_price),
                            "chainId": ctx.chain_id, "nonce": Nonce(nonce)}
        signed = ctx.relayer.sign_transaction(call.build_transaction(params))  # type: ignore[arg-type]
        row.raw_tx = "0x" + bytes(signed.raw_transaction).hex()
        row.tx_hash = "0x" + bytes(signed.hash).hex()
        row.status = "sent"
        row.attempts += 1
        self._save(db, row)  # stored before broadcast: a crash after this line re-broadcasts the same transaction
        self._broadcast(db, row)
        self._follow(db, row)

    def _broadcast(self, db: Session, row: RelayRequest) -> None:
        assert row.raw_tx is not None
        try:
            self.ctx.w3.eth.send_raw_transaction(HexStr(row.raw_tx))
        except NODE_DOWN:
            raise
        except Exception as exc:  # noqa: BLE001 - the node's refusal decides what follows
            text = str(exc).lower()
            if "already known" in text or "already imported" in text:
                return
            if "nonce too low" in text or "nonce too high" in text:
                # another transaction took the relayer's nonce and ours never ran: sign it again
                row.status, row.raw_tx, row.tx_hash = "queued", None, None
                self._save(db, row)
                return
            self._fail(db, row, as_revert(exc))

    def _follow(self, db: Session, row: RelayRequest) -> None:
        if row.status != "sent" or row.tx_hash is None:
            return
        w3 = self.ctx.w3
        tx_hash = row.tx_hash
        try:
            receipt = w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        except TransactionNotFound:
            try:
                w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
            except TransactionNotFound:
                self._broadcast(db, row)  # the node lost it (restart): the same signed transaction again
                if row.status != "sent":
                    return
            try:
                receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=self.receipt_timeout)  # type: ignore[arg-type]
            except TimeExhausted:
                return
        row.block_number = int(receipt["blockNumber"])
        if receipt["status"] == 1:
            row.status = "mined"
            self._save(db, row)
            return
        tx: TxParams = {"from": self.ctx.relayer.address, "to": self.ctx.forwarder.address,
                        "data": self.ctx.forwarder.functions.execute(as_tuple(row))._encode_transaction_data()}
        self._fail(db, row, self.ctx.sender._failure(tx, receipt))

    def run_forever(self, stop: threading.Event, interval: float) -> None:
        while not stop.is_set():
            try:
                if self.run_once() == 0:
                    stop.wait(interval)
            except Exception:  # noqa: BLE001 - the loop must survive; the error is logged
                log.exception("relayer round failed")
                stop.wait(interval)
