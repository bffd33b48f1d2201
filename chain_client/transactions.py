"""Sending transactions: local signing, explicit gas, awaited receipts, decoded reverts."""

from __future__ import annotations

import logging
import random
import time
from typing import Any, Protocol

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract.contract import ContractFunction
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
    """Signs locally with eth-account and sends raw transactions. Implements :class:`Submitter` directly."""

    def __init__(self, w3: Web3, nonces: NonceManager | None = None, timeout: float = 120.0) -> None:
        self.w3 = w3
        self.nonces = nonces or NonceManager(w3)
        self.timeout = timeout
        self.chain_id = w3.eth.chain_id
        self.gas_price = w3.eth.gas_price

    def estimate(self, account: str, call: ContractFunction) -> int:
        """Gas estimate of ``call`` from ``account``; a revert raises :class:`ContractRevert`, an integer argument out
        of its ABI type's range :class:`~chain_client.input_checks.InputError`."""
        check_call_arguments(call)
        try:
            return int(call.estimate_gas({"from": account}))
        except REVERT_EXCEPTIONS as exc:
            raise as_revert(exc) from None

    def submit(self, account: LocalAccount, call: ContractFunction, gas: int | None = None) -> TxReceipt:
        check_call_arguments(call)
        if gas is None:
            gas = int(self.estimate(account.address, call) * GAS_MARGIN)
        params: TxParams = {"from": account.address, "gas": gas, "gasPrice": Wei(self.gas_price),
                            "chainId": self.chain_id, "nonce": Nonce(0)}
        tx = call.build_transaction(params)
        return self.send(account, tx)

    def send(self, account: LocalAccount, tx: TxParams) -> TxReceipt:
        """Signs ``tx`` with the next nonce of ``account``, sends it and waits for the receipt.

        Other processes may sign with the same key: a send refused for its nonce ("nonce too low", "replacement
        transaction underpriced") re-reads the pending nonce and tries again, a bounded number of times."""
        for attempt in range(1, NONCE_ATTEMPTS + 1):
            try:
                with self.nonces.reserve(account.address) as nonce:
                    tx = {**tx, "nonce": Nonce(nonce)}
                    signed = account.sign_transaction(tx)  # type: ignore[arg-type]
                    tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
                break
            except REVERT_EXCEPTIONS as exc:
                if attempt < NONCE_ATTEMPTS and nonce_conflict(exc):
                    pause = random.uniform(0.05, 0.2) * attempt
                    log.warning("nonce %s of %s was taken by another sender (%s): retrying with the pending nonce "
                                "in %.2f s (attempt %d of %d)", tx.get("nonce"), account.address, exc, pause,
                                attempt, NONCE_ATTEMPTS)
                    time.sleep(pause)
                    continue
                raise as_revert(exc) from None
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=self.timeout)
        if receipt["status"] != 1:
            raise self._failure(tx, receipt)
        return receipt

    def _failure(self, tx: TxParams, receipt: TxReceipt) -> Exception:
        """Replays a failed transaction as a call on the state before its block to recover the revert data."""
        call: dict[str, Any] = {k: tx[k] for k in ("from", "to", "data", "value") if k in tx}  # type: ignore[literal-required]
        try:
            self.w3.eth.call(call, receipt["blockNumber"] - 1)  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001 - any failure carrying revert data is what we want
            data = revert_data_of(exc)
            if data is not None:
                return decode_revert(data)
        return TransactionFailed(f"transaction {receipt['transactionHash'].hex()} failed (gas used {receipt['gasUsed']})")
