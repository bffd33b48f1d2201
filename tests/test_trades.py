"""Used-battery trades (Fair Trade Guideline): every rule tried and refused with its exact error, state unchanged."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chain_client import rule_changes
from chain_client.evaluations import Grade
from chain_client.passports import battery_id
from chain_client.trades import DEFAULT_TRADE_POLICY, Sale, TradePolicy, new_salt, price_commitment
from chain_client.vocabulary import MOE_ROLE, BatteryStatus, BusinessRole, document_hash
from tests.conftest import DAY, MODEL, World
from tests.helpers import reverts

NAMES = ("KR:KCELL:EV:T0001", "KR:KCELL:EV:T0002")
A, B = (battery_id(n) for n in NAMES)
TERMS = document_hash("standard used-battery sale terms v1")
PRICE = price_commitment(12_000_000, "KRW", b"\x01" * 32)


@pytest.fixture
def market(world: World) -> World:
    """Two removed batteries held by the EV maker, graded (SOH 80 % and 60 %) and inspected; terms v1 published."""
    p = world.ledger.passports
    for name, soh in zip(NAMES, (8_000, 6_000), strict=True):
        p.register(world.cell_maker, name, MODEL)
        p.transfer(world.cell_maker, battery_id(name), world.ev_maker.address)
        p.put_in_service(world.ev_maker, battery_id(name), b"\x0e" * 32)
        world.evaluate(battery_id(name), soh)
        p.mark_removed(world.ev_maker, battery_id(name))
        world.inspect(battery_id(name))
    world.ledger.trades.set_standard_terms(world.motie, TERMS)  # the trade authority
    return world


def sale(w: World, batteries: tuple[bytes, ...] = (A, B), buyer: str | None = None, **changes: object) -> Sale:
    base = Sale(buyer or w.reuser.address, batteries, TERMS, w.chain_time() + 30 * DAY, PRICE)
    return replace(base, **changes)  # type: ignore[arg-type]


def test_commitment_is_keccak_of_the_abi_encoded_price_currency_and_salt() -> None:
    salt = new_salt()
    assert price_commitment(5, "KRW", salt) != price_commitment(5, "EUR", salt)
    assert price_commitment(5, "KRW", salt) == price_commitment(5, "KRW", salt)
    with pytest.raises(Exception, match="ISO 4217"):
        price_commitment(5, "krw", salt)


def test_sale_delivery_and_late_payment(market: World) -> None:
    w, t, p = market, market.ledger.trades, market.ledger.passports
    trade_id = t.record_sale(w.ev_maker, sale(w))
    assert t.batteries(trade_id) == [(A, Grade.UPPER), (B, Grade.MIDDLE)]  # the grades at the time of sale
    assert (t.pending_trade_of(A), t.pending_trade_of(B)) == (trade_id, trade_id)
    reverts(lambda: t.confirm_delivery(w.reuser, trade_id), "TradeCustodyNotMoved", tradeId=trade_id, batteryId=A,
            operator=w.ev_maker.address)
    p.transfer(w.ev_maker, A, w.reuser.address)  # custody moves through the passports' own rule (inspection gate)
    reverts(lambda: t.confirm_delivery(w.reuser, trade_id), "TradeCustodyNotMoved", batteryId=B)
    p.transfer(w.ev_maker, B, w.reuser.address)
    reverts(lambda: t.confirm_delivery(w.ev_maker, trade_id), "TradeNotBuyer", tradeId=trade_id,
            caller=w.ev_maker.address)  # confirmation by the wrong side
    assert t.trade(trade_id).delivered_at == 0
    t.confirm_delivery(w.reuser, trade_id)
    assert t.trade(trade_id).delivered_at > 0 and t.pending_trade_of(A) == 0
    reverts(lambda: t.confirm_delivery(w.reuser, trade_id), "TradeAlreadyDelivered", tradeId=trade_id)
    reverts(lambda: t.record_payment(w.ev_maker, trade_id), "TradeNotBuyer")
    w.backend.advance_time(31 * DAY)
    t.record_payment(w.reuser, trade_id)
    trade = t.trade(trade_id)
    assert trade.paid_late and trade.paid_at > trade.due_date
    reverts(lambda: t.record_payment(w.reuser, trade_id), "TradeAlreadyPaid", tradeId=trade_id)
    assert t.party(w.reuser.address).late_payments == 1 and t.party(w.reuser.address).purchases == 1
    assert t.party(w.ev_maker.address).sales == 1


def test_payment_on_time_is_not_late(market: World) -> None:
    w, t = market, market.ledger.trades
    trade_id = t.record_sale(w.ev_maker, sale(w))
    t.record_payment(w.reuser, trade_id)  # prepayment, before delivery
    assert not t.trade(trade_id).paid_late and t.party(w.reuser.address).late_payments == 0


def test_a_sale_is_refused_unless_every_rule_holds(market: World) -> None:
    w, t, p = market, market.ledger.trades, market.ledger.passports
    record = lambda seller, s: lambda: t.record_sale(seller, s)  # noqa: E731
    reverts(record(w.stranger, sale(w)), "RegistryUnknownParticipant", account=w.stranger.address)
    reverts(record(w.ev_maker, sale(w, buyer=w.stranger.address)), "RegistryUnknownParticipant",
            account=w.stranger.address)  # unregistered buyer
    reverts(record(w.ev_maker, sale(w, buyer=w.inspector.address)), "RegistryMissingRole",
            account=w.inspector.address)  # an inspection body does not trade
    reverts(record(w.ev_maker, sale(w, buyer=w.ev_maker.address)), "TradeSelfTrade")
    reverts(record(w.ev_maker, sale(w, batteries=())), "TradeInvalidBatteryCount", count=0)
    reverts(record(w.ev_maker, sale(w, batteries=(A,) * 101)), "TradeInvalidBatteryCount", count=101)
    reverts(record(w.ev_maker, sale(w, terms_hash=document_hash("home-made terms"))), "TradeUnknownTerms")
    reverts(record(w.ev_maker, sale(w, due_date=w.chain_time() - 1)), "TradeInvalidDueDate")
    reverts(record(w.ev_maker, sale(w, price_commitment=b"\x00" * 32)), "TradeMissingPriceCommitment")
    unknown = battery_id("KR:KCELL:EV:NOPE")
    reverts(record(w.ev_maker, sale(w, batteries=(A, unknown))), "TradeUnknownBattery", batteryId=unknown)
    reverts(record(w.dismantler, sale(w)), "TradeNotHolder", batteryId=A, seller=w.dismantler.address,
            operator=w.ev_maker.address)
    reverts(record(w.ev_maker, sale(w, batteries=(A, A))), "TradeBatteryPending", batteryId=A)  # listed twice
    p.register(w.cell_maker, "KR:KCELL:EV:NEW", MODEL)  # a new battery is not a used battery
    reverts(record(w.cell_maker, sale(w, batteries=(battery_id("KR:KCELL:EV:NEW"),))), "TradeNotUsedBattery",
            status=BatteryStatus.ORIGINAL)
    w.backend.advance_time(31 * DAY)  # the inspections (30 days) expired: refused on-chain
    reverts(record(w.ev_maker, sale(w)), "InspectionExpired", batteryId=A)
    assert t.trade_count() == 0 and t.pending_trade_of(A) == 0 and t.party(w.ev_maker.address).sales == 0
    w.inspect(A)
    trade_id = t.record_sale(w.ev_maker, sale(w, batteries=(A,)))
    reverts(record(w.ev_maker, sale(w, batteries=(A,))), "TradeBatteryPending", batteryId=A, tradeId=trade_id)
    assert t.trade_count() == 1


def test_a_battery_without_a_counting_evaluation_sells_ungraded(market: World) -> None:
    w, t = market, market.ledger.trades
    w.ledger.registry.revoke(w.molit, w.evaluator.address)  # its evaluation no longer counts
    trade_id = t.record_sale(w.ev_maker, sale(w))
    assert t.batteries(trade_id) == [(A, Grade.NONE), (B, Grade.NONE)]


def test_withdrawal_frees_the_batteries(market: World) -> None:
    w, t = market, market.ledger.trades
    trade_id = t.record_sale(w.ev_maker, sale(w))
    reverts(lambda: t.withdraw(w.reuser, trade_id), "TradeNotSeller", caller=w.reuser.address)
    t.withdraw(w.ev_maker, trade_id)
    assert t.pending_trade_of(A) == 0
    reverts(lambda: t.confirm_delivery(w.reuser, trade_id), "TradeWithdrawn", tradeId=trade_id)
    reverts(lambda: t.record_payment(w.reuser, trade_id), "TradeWithdrawn", tradeId=trade_id)
    reverts(lambda: t.withdraw(w.ev_maker, trade_id), "TradeWithdrawn", tradeId=trade_id)
    t.record_sale(w.ev_maker, sale(w))  # sold again


def test_disputes_are_opened_by_a_party_closed_by_the_authority_and_counted(market: World) -> None:
    w, t = market, market.ledger.trades
    trade_id = t.record_sale(w.ev_maker, sale(w))
    reason = document_hash("batteries not as described")
    reverts(lambda: t.open_dispute(w.dismantler, trade_id, reason), "TradeNotParty", caller=w.dismantler.address)
    reverts(lambda: t.open_dispute(w.reuser, trade_id, b"\x00" * 32), "TradeMissingReason")
    reverts(lambda: t.open_dispute(w.reuser, 99, reason), "TradeUnknownTrade", tradeId=99)
    reverts(lambda: t.close_dispute(w.motie, trade_id, True, reason), "TradeNoOpenDispute", tradeId=trade_id)
    t.open_dispute(w.reuser, trade_id, reason)
    reverts(lambda: t.open_dispute(w.ev_maker, trade_id, reason), "TradeDisputeAlreadyOpen", tradeId=trade_id)
    reverts(lambda: t.withdraw(w.ev_maker, trade_id), "TradeDisputeAlreadyOpen", tradeId=trade_id)
    reverts(lambda: t.close_dispute(w.moe, trade_id, True, reason), "AccessControlUnauthorizedAccount",
            account=w.moe.address)  # not the dispute authority
    reverts(lambda: t.close_dispute(w.reuser, trade_id, True, reason), "AccessControlUnauthorizedAccount")
    assert t.trade(trade_id).dispute_open
    t.close_dispute(w.motie, trade_id, True, document_hash("seller to refund 10 %"))
    t.open_dispute(w.ev_maker, trade_id, document_hash("buyer refuses delivery"))
    t.close_dispute(w.motie, trade_id, False, document_hash("unfounded"))
    seller, buyer = t.party(w.ev_maker.address), t.party(w.reuser.address)
    assert (seller.disputes_against, seller.disputes_upheld_against, seller.disputes_opened) == (1, 1, 1)
    assert (buyer.disputes_against, buyer.disputes_upheld_against, buyer.disputes_opened) == (1, 0, 1)
    assert t.trade(trade_id).disputes == 2 and not t.trade(trade_id).dispute_open


def test_trade_rules_are_governed(market: World) -> None:
    w, t = market, market.ledger.trades
    assert t.policy() == DEFAULT_TRADE_POLICY and t.policy().min_index_trades == 5
    new = TradePolicy(7, 2_000, MOE_ROLE)
    reverts(lambda: t.set_policy(w.motie, new), "AccessControlUnauthorizedAccount", account=w.motie.address)
    reverts(lambda: w.govern(rule_changes.trade_policy(w.ledger, TradePolicy(0, 2_000, MOE_ROLE))),
            "TradeInvalidPolicy")
    reverts(lambda: t.set_standard_terms(w.moe, document_hash("v2")), "AccessControlUnauthorizedAccount",
            account=w.moe.address)  # only the trade authority publishes terms
    assert t.policy() == DEFAULT_TRADE_POLICY
    t.set_standard_terms(w.motie, TERMS, False)  # withdrawn terms can no longer be used
    reverts(lambda: t.record_sale(w.ev_maker, sale(w)), "TradeUnknownTerms", termsHash=TERMS)
    w.govern(rule_changes.trade_policy(w.ledger, new))  # the policy committee makes MoE the trade authority
    assert t.policy() == new
    t.set_standard_terms(w.moe, TERMS)
    trade_id = t.record_sale(w.ev_maker, sale(w))


def test_a_suspended_buyer_cannot_confirm(market: World) -> None:
    w, t, p = market, market.ledger.trades, market.ledger.passports
    trade_id = t.record_sale(w.ev_maker, sale(w, batteries=(A,)))
    p.transfer(w.ev_maker, A, w.reuser.address)
    w.ledger.registry.suspend(w.motie, w.reuser.address)
    reverts(lambda: t.confirm_delivery(w.reuser, trade_id), "RegistryParticipantNotActive", account=w.reuser.address)
    assert t.trade(trade_id).delivered_at == 0
    assert w.ledger.registry.is_active(w.ev_maker.address, BusinessRole.EV_MAKER)
