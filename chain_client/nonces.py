"""One nonce counter per key, safe under concurrent senders (web3.py has no nonce manager)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from web3 import Web3


class NonceManager:
    """Hands out consecutive nonces per address.

    ``reserve`` holds the address's lock until the transaction is handed to the node, so nonces reach the node in
    order; if sending fails, the counter is dropped and re-read from the chain on next use.
    """

    def __init__(self, w3: Web3) -> None:
        self._w3 = w3
        self._next: dict[str, int] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, address: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(address, threading.Lock())

    @contextmanager
    def reserve(self, address: str) -> Iterator[int]:
        with self._lock(address):
            nonce = self._next.get(address)
            if nonce is None:
                nonce = self._w3.eth.get_transaction_count(Web3.to_checksum_address(address), "pending")
            try:
                yield nonce
            except BaseException:
                self._next.pop(address, None)
                raise
            self._next[address] = nonce + 1

    def reset(self) -> None:
        """Forgets every counter (after a chain revert, say)."""
        with self._guard:
            self._next.clear()
