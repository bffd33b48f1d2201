"""Reading events out of receipts."""

from __future__ import annotations

from typing import Any

from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import TxReceipt

from chain_client.errors import LedgerError


def events_in(contract: Contract, name: str, receipt: TxReceipt) -> list[dict[str, Any]]:
    """The ``args`` of every ``name`` event ``contract`` emitted in ``receipt``."""
    event = getattr(contract.events, name)()
    return [dict(e["args"]) for e in event.process_receipt(receipt, errors=DISCARD)]


def event_args(contract: Contract, name: str, receipt: TxReceipt) -> dict[str, Any]:
    """The ``args`` of the single ``name`` event in ``receipt``."""
    found = events_in(contract, name, receipt)
    if len(found) != 1:
        raise LedgerError(f"expected one {name} event in {receipt['transactionHash'].hex()}, found {len(found)}")
    return found[0]
