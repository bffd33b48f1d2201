"""Typed client of UsedBatteryTrades (Fair Trade Guideline), and the price commitment."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from eth_abi import encode
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import TxReceipt

from chain_client.client import ContractClient
from chain_client.errors import LedgerError, decodes_reverts
from chain_client.evaluations import Grade
from chain_client.events import event_args
from chain_client.merkle import keccak
from chain_client.rules import RULES_FILE
from chain_client.vocabulary import AUTHORITY_ROLES

ZERO32 = b"\x00" * 32


def price_commitment(price: int, currency: str, salt: bytes) -> bytes:
    """``keccak256(abi.encode(uint256 price, string currency, bytes32 salt))``: the price in the currency's smallest
    unit (won for KRW, cents for EUR), the ISO 4217 code, 32 random bytes."""
    if price < 0:
        raise LedgerError(f"a price of {price} is impossible")
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise LedgerError(f"{currency!r} is not an ISO 4217 currency code (three capital letters)")
    if len(salt) != 32:
        raise LedgerError("the salt must be 32 bytes")
    return keccak(encode(["uint256", "string", "bytes32"], [price, currency, salt]))


def new_salt() -> bytes:
    return secrets.token_bytes(32)


@dataclass(frozen=True)
class Sale:
    """What a seller records: the buyer, the batteries, the standard terms' version hash, the due date (unix
    seconds) and the price commitment."""

    buyer: str
    batteries: Sequence[bytes]
    terms_hash: bytes
    due_date: int
    price_commitment: bytes

    def as_tuple(self) -> tuple[object, ...]:
        return (Web3.to_checksum_address(self.buyer), list(self.batteries), self.terms_hash, self.due_date,
                self.price_commitment)


@dataclass(frozen=True)
class Trade:
    trade_id: int
    seller: str
    recorded_at: int
    battery_count: int
    buyer: str
    due_date: int
    delivered_at: int
    paid_at: int
    withdrawn_at: int
    paid_late: bool
    dispute_open: bool
    disputes: int
    terms_hash: bytes
    price_commitment: bytes


@dataclass(frozen=True)
class TradePolicy:
    min_index_trades: int  # k
    price_deviation_bps: int
    trade_authority: bytes  # registry role

    def as_tuple(self) -> tuple[int, int, bytes]:
        return (self.min_index_trades, self.price_deviation_bps, self.trade_authority)


@dataclass(frozen=True)
class PartyRecord:
    sales: int
    purchases: int
    late_payments: int
    disputes_opened: int
    disputes_against: int
    disputes_upheld_against: int


class Trades(ContractClient):
    def record_sale(self, seller: LocalAccount, sale: Sale) -> int:
        """Records a sale and returns its trade id."""
        receipt = self.submit(seller, self.contract.functions.recordSale(sale.as_tuple()))
        return int(event_args(self.contract, "TradeRecorded", receipt)["tradeId"])

    def confirm_delivery(self, buyer: LocalAccount, trade_id: int) -> TxReceipt:
        return self.submit(buyer, self.contract.functions.confirmDelivery(trade_id))

    def record_payment(self, buyer: LocalAccount, trade_id: int) -> TxReceipt:
        return self.submit(buyer, self.contract.functions.recordPayment(trade_id))

    def withdraw(self, seller: LocalAccount, trade_id: int) -> TxReceipt:
        return self.submit(seller, self.contract.functions.withdrawSale(trade_id))

    def open_dispute(self, party: LocalAccount, trade_id: int, reason_hash: bytes) -> TxReceipt:
        return self.submit(party, self.contract.functions.openDispute(trade_id, reason_hash))

    def close_dispute(self, authority: LocalAccount, trade_id: int, upheld: bool, resolution_hash: bytes) -> TxReceipt:
        return self.submit(authority, self.contract.functions.closeDispute(trade_id, upheld, resolution_hash))

    def set_standard_terms(self, authority: LocalAccount, terms_hash: bytes, published: bool = True) -> TxReceipt:
        return self.submit(authority, self.contract.functions.setStandardTerms(terms_hash, published))

    def set_policy(self, governance: LocalAccount, policy: TradePolicy) -> TxReceipt:
        return self.submit(governance, self.contract.functions.setPolicy(policy.as_tuple()))

    @decodes_reverts
    def trade(self, trade_id: int) -> Trade:
        return Trade(trade_id, *self.contract.functions.trade(trade_id).call())

    @decodes_reverts
    def batteries(self, trade_id: int, from_block: int = 0) -> list[tuple[bytes, Grade]]:
        """The batteries of a trade (on-chain list) with the grade each had at the time of sale (its event)."""
        ids = [bytes(i) for i in self.contract.functions.tradeBatteries(trade_id).call()]
        logs = self.contract.events.BatterySold().get_logs(from_block=from_block,
                                                          argument_filters={"tradeId": trade_id})
        grades = {bytes(e["args"]["batteryId"]): Grade(e["args"]["grade"]) for e in logs}
        return [(i, grades.get(i, Grade.NONE)) for i in ids]

    @decodes_reverts
    def trade_count(self) -> int:
        return int(self.contract.functions.tradeCount().call())

    @decodes_reverts
    def party(self, address: str) -> PartyRecord:
        return PartyRecord(*self.contract.functions.partyRecord(Web3.to_checksum_address(address)).call())

    @decodes_reverts
    def pending_trade_of(self, battery: bytes) -> int:
        return int(self.contract.functions.pendingTradeOf(battery).call())

    @decodes_reverts
    def is_standard_terms(self, terms_hash: bytes) -> bool:
        return bool(self.contract.functions.isStandardTerms(terms_hash).call())

    @decodes_reverts
    def policy(self) -> TradePolicy:
        k, deviation, authority = self.contract.functions.policy().call()
        return TradePolicy(int(k), int(deviation), bytes(authority))


def _default_policy() -> TradePolicy:
    rules = json.loads(RULES_FILE.read_text())["usedBatteryTrades"]
    return TradePolicy(rules["minIndexTrades"], rules["priceDeviationBps"],
                       AUTHORITY_ROLES[rules["tradeAuthority"]])


#: k = 5, 30 % deviation flagged, MOTIE publishes the standard terms and closes disputes (``rules.json``;
#: governance changes it on-chain).
DEFAULT_TRADE_POLICY = _default_policy()
