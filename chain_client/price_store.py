"""The authority tier's store of agreed used-battery prices (SQLite), checked against the on-chain commitments.

A trade's price and salt never go on-chain: the seller hands them to the authority tier (the portal's document store;
from the CLI, this SQLite file in the data directory) and the chain holds only
``keccak256(abi.encode(price, currency, salt))``. A ministry checks a stored price against the commitment with
:func:`check_price`; a mismatch means the stored record is not the one the parties committed to.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from chain_client.errors import LedgerError
from chain_client.trades import Trades, price_commitment

_SCHEMA = """
CREATE TABLE IF NOT EXISTS trade_prices (
    chain_id INTEGER NOT NULL,
    contract TEXT NOT NULL,
    trade_id INTEGER NOT NULL,
    price TEXT NOT NULL,          -- integer, smallest unit of the currency (decimal text: may exceed 64 bits)
    currency TEXT NOT NULL,       -- ISO 4217
    salt BLOB NOT NULL,           -- 32 bytes
    PRIMARY KEY (chain_id, contract, trade_id)
)
"""


@dataclass(frozen=True)
class PriceRecord:
    trade_id: int
    price: int
    currency: str
    salt: bytes

    @property
    def commitment(self) -> bytes:
        return price_commitment(self.price, self.currency, self.salt)


class PriceStore:
    """Prices per (chain, trades contract, trade id). ``path`` ``:memory:`` keeps them in memory."""

    def __init__(self, path: Path | str) -> None:
        if isinstance(path, Path):
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path))
        self._db.execute(_SCHEMA)
        self._db.commit()

    @classmethod
    def in_data_dir(cls, data: Path) -> PriceStore:
        return cls(data / "prices.sqlite")

    def put(self, chain_id: int, contract: str, record: PriceRecord) -> None:
        price_commitment(record.price, record.currency, record.salt)  # validates
        self._db.execute("INSERT OR REPLACE INTO trade_prices VALUES (?, ?, ?, ?, ?, ?)",
                         (chain_id, contract.lower(), record.trade_id, str(record.price), record.currency,
                          record.salt))
        self._db.commit()

    def get(self, chain_id: int, contract: str, trade_id: int) -> PriceRecord | None:
        row = self._db.execute("SELECT trade_id, price, currency, salt FROM trade_prices WHERE chain_id = ? AND "
                               "contract = ? AND trade_id = ?", (chain_id, contract.lower(), trade_id)).fetchone()
        return PriceRecord(int(row[0]), int(row[1]), row[2], bytes(row[3])) if row else None

    def all(self, chain_id: int, contract: str) -> dict[int, PriceRecord]:
        rows = self._db.execute("SELECT trade_id, price, currency, salt FROM trade_prices WHERE chain_id = ? AND "
                                "contract = ? ORDER BY trade_id", (chain_id, contract.lower())).fetchall()
        return {int(r[0]): PriceRecord(int(r[0]), int(r[1]), r[2], bytes(r[3])) for r in rows}

    def close(self) -> None:
        self._db.close()


def check_price(store: PriceStore, trades: Trades, chain_id: int, trade_id: int) -> PriceRecord:
    """The stored price of ``trade_id`` if it opens the on-chain commitment; otherwise a :class:`LedgerError`
    that says what is wrong."""
    trade = trades.trade(trade_id)
    if trade.seller == "0x" + "00" * 20:
        raise LedgerError(f"trade #{trade_id} does not exist on-chain")
    record = store.get(chain_id, trades.address, trade_id)
    if record is None:
        raise LedgerError(f"no price is stored for trade #{trade_id}")
    if record.commitment != trade.price_commitment:
        raise LedgerError(f"the stored price of trade #{trade_id} ({record.price} {record.currency}) does not match "
                          f"the on-chain commitment 0x{trade.price_commitment.hex()}")
    return record
