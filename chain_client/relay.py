"""Meta-transactions: a participant signs an EIP-712 ``ForwardRequest``; a relayer (the portal) pays the gas.

The contracts see the signer through ERC-2771, never the relayer; the forwarder checks the signature, the
per-signer nonce and the deadline, so a relayer can neither forge nor replay a participant's act.
"""

from __future__ import annotations

import copy
import threading
import time
from typing import Any

from eth_account.signers.local import LocalAccount
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

from chain_client.transactions import GAS_MARGIN, Act, Pipeline, Submitter, TxSender

FORWARDER_NAME = "BatteryLedgerForwarder"

FORWARD_REQUEST_TYPES = {
    "ForwardRequest": [
        {"name": "from", "type": "address"},
        {"name": "to", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "gas", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint48"},
        {"name": "data", "type": "bytes"},
    ]
}


def sign_forward_request(
    signer: LocalAccount,
    forwarder: Contract,
    chain_id: int,
    to: str,
    data: bytes,
    gas: int,
    nonce: int,
    deadline: int,
) -> dict[str, Any]:
    """Signs a request and returns it in the forwarder's ``ForwardRequestData`` shape."""
    message = {"from": signer.address, "to": to, "value": 0, "gas": gas, "nonce": nonce, "deadline": deadline,
               "data": data}
    domain = {"name": FORWARDER_NAME, "version": "1", "chainId": chain_id, "verifyingContract": forwarder.address}
    signed = signer.sign_typed_data(domain_data=domain, message_types=FORWARD_REQUEST_TYPES, message_data=message)
    request = {k: v for k, v in message.items() if k != "nonce"}
    request["signature"] = signed.signature
    return request


class RelayedSubmitter:
    """Implements :class:`chain_client.transactions.Submitter` by relaying signed requests through the forwarder."""

    def __init__(self, sender: TxSender, relayer: LocalAccount, forwarder: Contract, ttl_seconds: int = 3600):
        self.sender = sender
        self.relayer = relayer
        self.forwarder = forwarder
        self.ttl_seconds = ttl_seconds
        self._nonces: dict[str, int] = {}
        self._lock = threading.Lock()
        #: Where the relayer's transactions go: the sender (each awaited) or a pipeline (see :meth:`through`).
        self._outer: Submitter = sender

    def through(self, pipeline: Pipeline) -> RelayedSubmitter:
        """The same relayer (sharing the signers' forwarder nonces) sending through ``pipeline``: requests are
        relayed one after another without waiting for each receipt. A request that fails when mined makes the
        signer's next requests in the same pipeline fail too (the forwarder wants each signer's nonces in order)."""
        clone = copy.copy(self)
        clone._outer = pipeline
        return clone

    def _forget(self, signer: str) -> None:
        with self._lock:
            self._nonces.pop(signer, None)

    def _next_nonce(self, address: str) -> int:
        with self._lock:
            nonce = self._nonces.get(address)
            if nonce is None:
                nonce = int(self.forwarder.functions.nonces(address).call())
            self._nonces[address] = nonce + 1
            return nonce

    def sign(self, account: LocalAccount, call: ContractFunction, gas: int | None = None) -> dict[str, Any]:
        """The signed ``ForwardRequestData`` for ``call`` by ``account`` (the inner call is estimated as if sent
        by the signer, so a doomed call fails here with its own error)."""
        if gas is None:
            gas = int(self.sender.estimate(account.address, call) * GAS_MARGIN)
        data = bytes.fromhex(call._encode_transaction_data().removeprefix("0x"))
        deadline = int(time.time()) + self.ttl_seconds
        latest = self.sender.w3.eth.get_block("latest")["timestamp"]
        deadline = max(deadline, int(latest) + self.ttl_seconds)  # dev chains may run ahead of the wall clock
        return sign_forward_request(
            account, self.forwarder, self.sender.chain_id, call.address, data, gas, self._next_nonce(account.address),
            deadline,
        )

    def relay(self, request: dict[str, Any], gas: int | None = None) -> TxReceipt:
        """Sends a signed request from the relayer's account (``gas`` of the relayer's transaction: estimated unless
        given)."""
        try:
            receipt = self._outer.submit(self.relayer, self.forwarder.functions.execute(request), gas)
        except Exception:
            self._forget(request["from"])
            raise
        if isinstance(receipt, Act):  # pipelined: a failure shows once mined
            receipt.on_failure(lambda _error: self._forget(request["from"]))
        return receipt

    def submit(self, account: LocalAccount, call: ContractFunction, gas: int | None = None) -> TxReceipt:
        return self.relay(self.sign(account, call, gas))
