"""The demo's fair-trade and recycling chapter: used-battery trades (one late payment, one dispute), two Annex XII
period declarations (one meets the efficiency target, one misses it) and the statistics the ministries steer by."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from eth_account.signers.local import LocalAccount
from rich.console import Console

from chain_client.backends import Backend
from chain_client.certificates import LotApplication
from chain_client.evaluations import MeasurementReport, sign_report
from chain_client.logistics import InspectionKind
from chain_client.passports import battery_id
from chain_client.price_store import PriceRecord, PriceStore
from chain_client.recycling import ChemistryClass, PeriodDeclaration
from chain_client.statistics import Statistics, compute
from chain_client.statistics_report import print_statistics
from chain_client.suite import Ledger
from chain_client.trades import Sale, new_salt, price_commitment
from chain_client.vocabulary import Feedstock, LotStatus, Material, document_hash, short_string

DAY = 86_400
KG = 1_000
TERMS = "Standard contract terms for used-battery sales, version 1 (Fair Trade Guideline)"

#: (seller, SOH basis points, agreed price in KRW) per trade: six upper-grade sales from two sellers (a published
#: index cell; the last far above the others), two middle-grade sales (a cell withheld: fewer than k trades).
SALES = (("ev_maker", 8_200, 3_500_000), ("ev_maker", 8_000, 3_600_000), ("dismantler", 7_900, 3_450_000),
         ("dismantler", 8_100, 3_700_000), ("ev_maker", 7_800, 3_550_000), ("dismantler", 8_300, 5_600_000),
         ("ev_maker", 6_200, 2_300_000), ("dismantler", 6_000, 2_400_000))


@dataclass
class MarketResult:
    trades: list[int] = field(default_factory=list)
    late_trade: int = 0
    disputed_trade: int = 0
    declarations: dict[str, int] = field(default_factory=dict)  # "meets" / "misses" -> id
    statistics: Statistics | None = None


def _used_battery(ledger: Ledger, a: dict[str, LocalAccount], model_id: bytes, serial: str, holder: str,
                  soh_bps: int) -> bytes:
    """A battery of the cell maker, driven in an EV, evaluated (grade from ``soh_bps``), removed by ``holder``."""
    p, ev, w3 = ledger.passports, ledger.evaluations, ledger.w3
    bid = battery_id(serial)
    p.register(a["cell_maker"], serial, model_id)
    p.transfer(a["cell_maker"], bid, a["ev_maker"].address)
    p.put_in_service(a["ev_maker"], bid, document_hash(f"vin of {serial}"))
    now = int(w3.eth.get_block("latest")["timestamp"])
    report = MeasurementReport(bid, soh_bps, 50_000, 1_500, 1_100, 0, now - 60, document_hash(f"log {serial}"),
                               ev.nonce(a["device"].address), now + 3_600)
    ev.submit_report(a["portal"], sign_report(a["device"], report, ledger.deployment.chain_id, ev.address))
    if holder != "ev_maker":
        p.transfer(a["ev_maker"], bid, a[holder].address, document_hash("end-of-use handover"))
    p.mark_removed(a[holder], bid, document_hash(f"removal of {serial}"))
    return bid


def run_market(backend: Backend, ledger: Ledger, a: dict[str, LocalAccount], model_id: bytes, plant: bytes,
               recycled: list[bytes], prices: PriceStore, data: Path | None, step: Callable[[str], None],
               out: Console) -> MarketResult:
    """Trades, declarations and statistics on the demo's suite: ``recycled`` are the passports the recycler marked
    recycled so far, ``data`` holds the published model sheets."""
    result = MarketResult()
    w3, t, p = ledger.w3, ledger.trades, ledger.passports

    def chain_now() -> int:
        return int(w3.eth.get_block("latest")["timestamp"])

    try:
        backend.advance_time(1)
        travels = True
    except Exception:  # noqa: BLE001 - a node without time travel (geth, Besu): the late payment waits for real
        travels = False
    terms = document_hash(TERMS)
    t.set_standard_terms(a["motie"], terms)
    for i, (seller, soh, price) in enumerate(SALES, start=1):
        bid = _used_battery(ledger, a, model_id, f"KR:KCELL:EV:USED{i:04d}", seller, soh)
        ledger.inspections.record(a["inspector"], bid, InspectionKind.PRE_DISTRIBUTION, True, chain_now() + 90 * DAY,
                                  document_hash(f"pre-distribution inspection {i}"))
        salt = new_salt()
        due = chain_now() + (30 * DAY if i != 2 else DAY if travels else 20)
        trade_id = t.record_sale(a[seller], Sale(a["reuser"].address, [bid], terms, due,
                                                 price_commitment(price, "KRW", salt)))
        prices.put(ledger.deployment.chain_id, t.address, PriceRecord(trade_id, price, "KRW", salt))
        p.transfer(a[seller], bid, a["reuser"].address, document_hash(f"delivery note, trade {trade_id}"))
        t.confirm_delivery(a["reuser"], trade_id)
        if i != 2:
            t.record_payment(a["reuser"], trade_id)
        result.trades.append(trade_id)
    step(f"MOTIE published the standard contract terms; {len(SALES)} used batteries, each evaluated, removed and "
         "inspected, were sold to the repurposing business: the sale records the grade, the terms' hash, the due "
         "date and a commitment to the price (price and salt went to the authority tier's price store); custody "
         "moved through the passports' inspection gate, then the buyer confirmed delivery and paid")
    result.late_trade = result.trades[1]
    if travels:
        backend.advance_time(2 * DAY)
    else:
        deadline = time.monotonic() + 120
        while chain_now() <= t.trade(result.late_trade).due_date and time.monotonic() < deadline:
            time.sleep(1)
    t.record_payment(a["reuser"], result.late_trade)
    step(f"trade #{result.late_trade} was paid after its due date: the chain marks it late "
         f"(paidLate={t.trade(result.late_trade).paid_late})")
    result.disputed_trade = result.trades[5]
    t.open_dispute(a["reuser"], result.disputed_trade, document_hash("capacity below the grade sold"))
    t.open_dispute(a["reuser"], result.trades[3], document_hash("late delivery"))
    t.close_dispute(a["motie"], result.disputed_trade, True, document_hash("MOTIE: seller refunds 20 %"))
    t.close_dispute(a["motie"], result.trades[3], False, document_hash("MOTIE: delivery within the terms"))
    record = t.party(a["dismantler"].address)
    step(f"the buyer opened disputes on trades #{result.disputed_trade} and #{result.trades[3]}; MOTIE upheld the "
         f"first and dismissed the second: {record.disputes_against} disputes against the dismantler on-chain "
         f"({record.disputes_upheld_against} upheld)")

    declarations(ledger, a, model_id, plant, recycled, result, step, chain_now)
    result.statistics = compute(ledger, "authority", prices, data)
    print_statistics(out, result.statistics)
    return result


def declarations(ledger: Ledger, a: dict[str, LocalAccount], model_id: bytes, plant: bytes, recycled: list[bytes],
                 result: MarketResult, step: Callable[[str], None], chain_now: Callable[[], int]) -> None:
    """Two Annex XII period declarations of the recycler, attested by MoE: 72.5 % (meets 65 %) and 60 % (misses)."""
    r, certs, p = ledger.recycling, ledger.certificates, ledger.passports
    start = chain_now() - 120 * DAY
    lots = [certs.lot(i) for i in range(1, certs.lot_count() + 1)]
    listed = [lot for lot in lots if lot.recycler == a["recycler"].address and lot.status == LotStatus.CERTIFIED
              and lot.feedstock == Feedstock.POST_CONSUMER and lot.period_end >= start]
    certified = {m: sum(lot.mass_grams for lot in listed if lot.material == m) for m in Material}
    # recovered at least what MoE certified from the period's lots (the cobalt lot counts while it is not revoked)
    recovered = {m: max(certified[m], grams) for m, grams in
                 {Material.LITHIUM: 95 * KG, Material.NICKEL: 530 * KG, Material.COBALT: 110 * KG}.items()}
    contained = {m: max(grams, recovered[m] * 100 // 92) for m, grams in
                 {Material.LITHIUM: 120 * KG, Material.NICKEL: 560 * KG, Material.COBALT: 120 * KG}.items()}
    first = r.declare(a["recycler"], PeriodDeclaration(
        ChemistryClass.LITHIUM_BASED, start, chain_now(), 4_000 * KG, 2_900 * KG, contained, recovered,
        recycled, [lot.lot_id for lot in listed], document_hash("mass balance, hydrometallurgy line 1, period 1")))
    r.attest(a["moe"], first)
    # a lower-grade battery goes to waste and recycling in a second period, with its own lot
    bid = _used_battery(ledger, a, model_id, "KR:KCELL:EV:WASTE0001", "dismantler", 4_200)
    p.mark_waste(a["dismantler"], bid, document_hash("graded lower: waste"))
    p.transfer(a["dismantler"], bid, a["recycler"].address, document_hash("waste transfer note"))
    second_start = chain_now()
    lot = certs.apply(a["recycler"], LotApplication(
        Material.LITHIUM, Feedstock.POST_CONSUMER, 1 * KG, short_string("Li2CO3"), plant, second_start - DAY,
        second_start, evidence_hash=document_hash("assay, period 2")))
    certs.certify(a["moe"], lot)
    p.mark_recycled(a["recycler"], bid, lot, document_hash("recycling certificate, period 2"))
    second = r.declare(a["recycler"], PeriodDeclaration(
        ChemistryClass.LITHIUM_BASED, second_start, chain_now(), 3_000 * KG, 1_800 * KG,
        {Material.LITHIUM: 90 * KG, Material.NICKEL: 420 * KG}, {Material.LITHIUM: 40 * KG, Material.NICKEL: 380 * KG},
        [bid], [lot], document_hash("mass balance, period 2")))
    r.attest(a["moe"], second)
    result.declarations = {"meets": first, "misses": second}
    one, two = r.declaration(first), r.declaration(second)
    a1, a2 = r.assess(first), r.assess(second)
    step(f"the recycler declared two periods (passports it recycled, its certified post-consumer lots, masses in and "
         f"out) and MoE attested them; efficiency computed on-chain: #{first} {one.efficiency_bps / 100:.2f} % "
         f"({'meets' if a1.meets_efficiency else 'misses'} the {a1.year} target of {a1.efficiency_target_bps / 100:g} "
         f"%), #{second} {two.efficiency_bps / 100:.2f} % ({'meets' if a2.meets_efficiency else 'misses'} it)")
