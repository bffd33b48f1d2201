"""Life-cycle, trade and recycling statistics computed from the chain's events (``bledger stats``, the portal API).

Everything here is recomputed from the logs of a deployment (and, for prices, the authority tier's price store), so
anyone with the node and the deployment file gets the same public figures. Two tiers:

- ``public``: counts, flows, certified masses, attested shares, trade volumes, the price index cells that pass the
  privacy rule, recycling efficiency in aggregate (attested declarations only);
- ``authority`` adds recycling efficiency per recycler and declaration, and the unfair-practice signals.

Price index (method and privacy rule): a trade's unit price is its agreed price divided by the rated energy of its
batteries (sum of their models' on-chain ``ratedEnergyWh``), in the currency's smallest unit per kWh. A trade belongs
to the cell grade x chemistry x quarter x currency of its batteries (grade at the time of sale, recorded on-chain;
chemistry from the model's published data sheet where it matches the on-chain hash, else the family of the model's
on-chain metals; quarter of the block that recorded the sale); a trade that mixes grades or chemistries is left out of
the index. Withdrawn trades, and trades whose stored price does not open the on-chain commitment, are left out. A
cell is published only when it holds at least k trades (k is the governed ``minIndexTrades``, default 5) from at
least two different sellers, and then only as its trade count and the mean unit price rounded to two significant
digits: never a minimum, maximum or median, which would be one trade's own price.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract

from chain_client.evaluations import Grade
from chain_client.merkle import keccak
from chain_client.price_store import PriceRecord, PriceStore
from chain_client.recycling import DeclarationStatus
from chain_client.suite import Ledger
from chain_client.vocabulary import BatteryCategory, BatteryStatus, Feedstock, LotStatus, Material

Tier = Literal["public", "authority"]
SECOND_LIVES = (BatteryStatus.REUSED, BatteryStatus.REPURPOSED, BatteryStatus.REMANUFACTURED, BatteryStatus.RECYCLED)
#: Disputes against one party from which the authority is told ("repeated disputes").
REPEATED_DISPUTES = 2


def quarter_of(timestamp: int) -> str:
    t = datetime.fromtimestamp(timestamp, UTC)
    return f"{t.year}-Q{(t.month - 1) // 3 + 1}"


def metal_family(metals: Iterable[Material]) -> str:
    """A chemistry family from the metals a model declares on-chain (the data sheet names the precise chemistry)."""
    present = set(metals)
    if Material.LEAD in present:
        return "lead-acid"
    if Material.LITHIUM not in present:
        return "other"
    if present & {Material.NICKEL, Material.COBALT}:
        return "Li-" + "-".join(m.symbol for m in sorted(present - {Material.LITHIUM}))
    return "Li (no Ni/Co: LFP/LMO)"


def round_significant(value: float, digits: int = 2) -> int:
    if value <= 0:
        return 0
    from math import floor, log10
    exponent = floor(log10(value)) - digits + 1
    return int(round(value / 10 ** exponent) * 10 ** exponent)


@dataclass(frozen=True)
class IndexCell:
    grade: str
    chemistry: str
    quarter: str
    currency: str
    trades: int
    mean_per_kwh: int | None  # None where the privacy rule withholds the cell


@dataclass(frozen=True)
class TradeFacts:
    trade_id: int
    seller: str
    buyer: str
    quarter: str
    batteries: int
    energy_wh: int
    grade: str | None  # None for a trade mixing grades
    chemistry: str | None
    withdrawn: bool
    paid_late: bool
    disputes: int
    price: PriceRecord | None  # only where it opens the on-chain commitment


@dataclass(frozen=True)
class DeclarationFacts:
    declaration_id: int
    recycler: str
    chemistry: str
    status: str
    period_end: str
    input_grams: int
    output_grams: int
    efficiency_bps: int
    input_metal_grams: dict[str, int]
    recovered_metal_grams: dict[str, int]
    recovery_bps: dict[str, int]
    target_year: int
    efficiency_target_bps: int
    meets_efficiency: bool
    meets_recovery: bool


@dataclass
class Statistics:
    tier: Tier
    batteries_by_status: dict[str, int] = field(default_factory=dict)
    batteries_by_category: dict[str, int] = field(default_factory=dict)
    batteries_by_chemistry: dict[str, int] = field(default_factory=dict)
    removals_by_quarter: dict[str, int] = field(default_factory=dict)
    grades: dict[str, int] = field(default_factory=dict)
    second_life_flows: dict[str, int] = field(default_factory=dict)
    certified_grams: dict[str, dict[str, int]] = field(default_factory=dict)  # quarter -> metal -> grams
    recycled_content: dict[str, dict[str, int]] = field(default_factory=dict)  # metal -> content/recycled/share
    claims_attested: int = 0
    claims_tainted: int = 0  # attested claims that consumed from a later-revoked lot (left out of the shares)
    trade_volume: dict[str, dict[str, int]] = field(default_factory=dict)  # quarter -> trades/batteries/kwh
    price_index: list[IndexCell] = field(default_factory=list)
    recycling_aggregate: dict[str, dict[str, int]] = field(default_factory=dict)  # class -> input/output/bps
    recovery_aggregate: dict[str, dict[str, int]] = field(default_factory=dict)  # metal -> input/recovered/bps
    declarations: list[DeclarationFacts] = field(default_factory=list)  # authority tier
    signals: list[str] = field(default_factory=list)  # authority tier
    min_index_trades: int = 0

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict
        return asdict(self)


class _Events:
    """Logs of a deployment, read in one ``eth_getLogs`` call over the contracts the statistics need (a node scans its
    blocks once, not once per event type), decoded per event; block times cached."""

    def __init__(self, ledger: Ledger, from_block: int) -> None:
        self.ledger = ledger
        self.from_block = from_block
        self._times: dict[int, int] = {}
        contracts = (ledger.passports, ledger.evaluations, ledger.certificates, ledger.claims, ledger.trades,
                     ledger.recycling)
        addresses = [Web3.to_checksum_address(c.address) for c in contracts]
        self._raw = list(ledger.w3.eth.get_logs({"fromBlock": from_block, "toBlock": "latest",
                                                 "address": addresses}))  # type: ignore[typeddict-item]

    def logs(self, contract: Contract, name: str) -> list[Any]:
        event = getattr(contract.events, name)()
        topic = HexBytes(event.topic)
        return [event.process_log(log) for log in self._raw
                if log["address"] == contract.address and log["topics"] and HexBytes(log["topics"][0]) == topic]

    def time(self, block: int) -> int:
        if block not in self._times:
            self._times[block] = int(self.ledger.w3.eth.get_block(block)["timestamp"])
        return self._times[block]


def model_chemistries(ev: _Events, data: Path | None) -> dict[bytes, str]:
    """Chemistry per model id: the published data sheet's ``batteryChemistry`` where the sheet in ``data/models``
    matches the on-chain hash, else the family of the model's on-chain metals."""
    ledger = ev.ledger
    out: dict[bytes, str] = {}
    for e in ev.logs(ledger.passports.contract, "ModelRegistered"):
        model_id = bytes(e["args"]["modelId"])
        sheet = data / "models" / f"{model_id.hex()}.json" if data else None
        if sheet is not None and sheet.is_file() and keccak(sheet.read_bytes()) == bytes(e["args"]["dataHash"]):
            out[model_id] = _sheet_chemistry(json.loads(sheet.read_text())) or metal_family(
                ledger.passports.model(model_id).metals)
        else:
            out[model_id] = metal_family(ledger.passports.model(model_id).metals)
    return out


def _sheet_chemistry(sheet: Any) -> str | None:
    """The chemistry's short name in a model data sheet (Battery Pass 1.2.0: materialComposition.batteryChemistry)."""
    chemistry = sheet.get("materialComposition", {}).get("batteryChemistry") if isinstance(sheet, dict) else None
    if isinstance(chemistry, dict) and chemistry.get("shortName"):
        return str(chemistry["shortName"])
    return str(chemistry) if isinstance(chemistry, str) and chemistry else None


def compute(ledger: Ledger, tier: Tier = "public", prices: PriceStore | None = None, data: Path | None = None,
            from_block: int | None = None) -> Statistics:
    """All statistics of the deployment behind ``ledger``."""
    start = ledger.deployment.block_number if from_block is None else from_block
    ev = _Events(ledger, start)
    stats = Statistics(tier)
    chemistry = model_chemistries(ev, data)
    models = {mid: ledger.passports.model(mid) for mid in chemistry}
    _life_cycle(ev, stats, chemistry, models)
    _certificates(ev, stats)
    trades = _trades(ev, stats, chemistry, models, prices)
    _price_index(stats, trades, ledger.trades.policy().min_index_trades)
    _recycling(ev, stats)
    if tier == "authority":
        _signals(ev, stats, trades)
    else:
        stats.declarations = []
    return stats


def _life_cycle(ev: _Events, stats: Statistics, chemistry: dict[bytes, str], models: dict[bytes, Any]) -> None:
    p = ev.ledger.passports.contract
    model_of: dict[bytes, bytes] = {}
    status: dict[bytes, BatteryStatus] = {}
    unmaterialized: Counter[bytes] = Counter()  # model -> batch batteries without their own record
    for e in ev.logs(p, "BatchAnchored"):
        unmaterialized[bytes(e["args"]["modelId"])] += int(e["args"]["count"])
    removals: Counter[str] = Counter()
    flows: Counter[str] = Counter()
    for e in sorted(ev.logs(p, "BatteryRegistered") + ev.logs(p, "BatteryEventRecorded"),
                    key=lambda x: (x["blockNumber"], x["logIndex"])):
        a = e["args"]
        bid = bytes(a["batteryId"])
        if e["event"] == "BatteryRegistered":
            model_of[bid] = bytes(a["modelId"])
            if int(a["batchId"]):
                unmaterialized[bytes(a["modelId"])] -= 1
            continue
        new = BatteryStatus(a["status"])
        old = status.get(bid)
        if old is not None and new != old:
            if new == BatteryStatus.REMOVED:
                removals[quarter_of(ev.time(e["blockNumber"]))] += 1
            if new in SECOND_LIVES:
                flows[new.label] += 1
        status[bid] = new
    by_status: Counter[str] = Counter(s.label for s in status.values())
    by_category: Counter[str] = Counter()
    by_chemistry: Counter[str] = Counter()
    for bid, mid in model_of.items():
        by_category[BatteryCategory(models[mid].category).name] += 1
        by_chemistry[chemistry[mid]] += 1
    for mid, n in unmaterialized.items():
        if n > 0:
            by_status[BatteryStatus.ORIGINAL.label] += n
            by_category[BatteryCategory(models[mid].category).name] += n
            by_chemistry[chemistry[mid]] += n
    grades: dict[bytes, str] = {}
    for e in ev.logs(ev.ledger.evaluations.contract, "BatteryEvaluated"):
        grades[bytes(e["args"]["batteryId"])] = Grade(e["args"]["grade"]).name.lower()
    stats.batteries_by_status = dict(by_status)
    stats.batteries_by_category = dict(by_category)
    stats.batteries_by_chemistry = dict(by_chemistry)
    stats.removals_by_quarter = dict(sorted(removals.items()))
    stats.grades = dict(Counter(grades.values()))
    stats.second_life_flows = {s.label: flows.get(s.label, 0) for s in SECOND_LIVES}


def _certificates(ev: _Events, stats: Statistics) -> None:
    c = ev.ledger.certificates.contract
    revoked = {int(e["args"]["lotId"]) for e in ev.logs(c, "LotRevoked")}
    per_quarter: dict[str, Counter[str]] = defaultdict(Counter)
    for e in ev.logs(c, "LotCertified"):
        if int(e["args"]["lotId"]) not in revoked:
            per_quarter[quarter_of(ev.time(e["blockNumber"]))][Material(e["args"]["material"]).symbol] += int(
                e["args"]["massGrams"])
    stats.certified_grams = {q: dict(v) for q, v in sorted(per_quarter.items())}
    claims = ev.ledger.claims
    content: Counter[str] = Counter()
    recycled: Counter[str] = Counter()
    for e in ev.logs(claims.contract, "ClaimAttested"):
        claim_id = int(e["args"]["claimId"])
        stats.claims_attested += 1
        if claims.is_tainted(claim_id)[0]:
            stats.claims_tainted += 1
            continue
        for material, share in claims.shares(claim_id).items():
            content[material.symbol] += share.content_grams
            recycled[material.symbol] += share.pre_consumer_grams + share.post_consumer_grams
    stats.recycled_content = {m: {"contentGrams": content[m], "recycledGrams": recycled[m],
                                  "shareBps": recycled[m] * 10_000 // content[m] if content[m] else 0}
                              for m in content}


def _trades(ev: _Events, stats: Statistics, chemistry: dict[bytes, str], models: dict[bytes, Any],
            prices: PriceStore | None) -> list[TradeFacts]:
    t = ev.ledger.trades
    stored = prices.all(ev.ledger.deployment.chain_id, t.address) if prices else {}
    sold: dict[int, list[tuple[bytes, str]]] = defaultdict(list)
    for e in ev.logs(t.contract, "BatterySold"):
        mid = bytes(e["args"]["modelId"])
        sold[int(e["args"]["tradeId"])].append((mid, Grade(e["args"]["grade"]).name.lower()))
    facts: list[TradeFacts] = []
    volume: dict[str, Counter[str]] = defaultdict(Counter)
    for e in ev.logs(t.contract, "TradeRecorded"):
        trade_id = int(e["args"]["tradeId"])
        trade = t.trade(trade_id)
        items = sold[trade_id]
        grades = {g for _, g in items}
        chems = {chemistry.get(mid, "unknown") for mid, _ in items}
        energy = sum(models[mid].rated_energy_wh for mid, _ in items if mid in models)
        price = stored.get(trade_id)
        if price is not None and price.commitment != trade.price_commitment:
            price = None
        quarter = quarter_of(ev.time(e["blockNumber"]))
        facts.append(TradeFacts(trade_id, trade.seller, trade.buyer, quarter, len(items), energy,
                                grades.pop() if len(grades) == 1 else None, chems.pop() if len(chems) == 1 else None,
                                trade.withdrawn_at != 0, trade.paid_late, trade.disputes, price))
        if trade.withdrawn_at == 0:
            volume[quarter]["trades"] += 1
            volume[quarter]["batteries"] += len(items)
            volume[quarter]["kWh"] += energy // 1_000
            volume[quarter]["latePayments"] += int(trade.paid_late)
            volume[quarter]["disputes"] += trade.disputes
    stats.trade_volume = {q: dict(v) for q, v in sorted(volume.items())}
    return facts


def _unit_price(f: TradeFacts) -> float | None:
    if f.price is None or f.energy_wh == 0:
        return None
    return f.price.price * 1_000 / f.energy_wh  # per kWh


def _cells(trades: list[TradeFacts]) -> dict[tuple[str, str, str, str], list[TradeFacts]]:
    cells: dict[tuple[str, str, str, str], list[TradeFacts]] = defaultdict(list)
    for f in trades:
        if f.withdrawn or f.grade is None or f.chemistry is None or _unit_price(f) is None:
            continue
        assert f.price is not None
        cells[(f.grade, f.chemistry, f.quarter, f.price.currency)].append(f)
    return cells


def _price_index(stats: Statistics, trades: list[TradeFacts], k: int) -> None:
    stats.min_index_trades = k
    out: list[IndexCell] = []
    for (grade, chem, quarter, currency), members in sorted(_cells(trades).items()):
        published = len(members) >= k and len({m.seller for m in members}) >= 2
        mean = sum(_unit_price(m) or 0 for m in members) / len(members)
        out.append(IndexCell(grade, chem, quarter, currency, len(members),
                             round_significant(mean) if published else None))
    stats.price_index = out


def _recycling(ev: _Events, stats: Statistics) -> None:
    r = ev.ledger.recycling
    agg: dict[str, Counter[str]] = defaultdict(Counter)
    metals: dict[str, Counter[str]] = defaultdict(Counter)
    for e in ev.logs(r.contract, "DeclarationSubmitted"):
        d_id = int(e["args"]["declarationId"])
        raw = e["args"]["declaration"]
        d = r.declaration(d_id)
        a = r.assess(d_id)
        inputs = {m.symbol: int(raw["inputMetalGrams"][int(m)]) for m in Material}
        recovered = {m.symbol: int(raw["recoveredMetalGrams"][int(m)]) for m in Material}
        stats.declarations.append(DeclarationFacts(
            d_id, d.recycler, d.chemistry.label, d.status.name.lower(), datetime.fromtimestamp(d.period_end, UTC)
            .date().isoformat(), int(raw["inputMassGrams"]), int(raw["outputMassGrams"]), d.efficiency_bps,
            {k: v for k, v in inputs.items() if v}, {k: v for k, v in recovered.items() if inputs[k]},
            {m.symbol: v for m, v in d.recovery_bps.items() if inputs[m.symbol]}, a.year, a.efficiency_target_bps,
            a.meets_efficiency, a.meets_recovery))
        if d.status != DeclarationStatus.ATTESTED:
            continue
        agg[d.chemistry.label]["inputGrams"] += int(raw["inputMassGrams"])
        agg[d.chemistry.label]["outputGrams"] += int(raw["outputMassGrams"])
        for sym in inputs:
            if inputs[sym]:
                metals[sym]["inputGrams"] += inputs[sym]
                metals[sym]["recoveredGrams"] += recovered[sym]
    stats.recycling_aggregate = {c: {**v, "efficiencyBps": v["outputGrams"] * 10_000 // v["inputGrams"]}
                                 for c, v in agg.items()}
    stats.recovery_aggregate = {m: {**v, "recoveryBps": v["recoveredGrams"] * 10_000 // v["inputGrams"]}
                                for m, v in metals.items()}


def _signals(ev: _Events, stats: Statistics, trades: list[TradeFacts]) -> None:
    """Unfair-practice signals for the authority (sales without a valid inspection never reach the chain)."""
    ledger = ev.ledger
    policy = ledger.trades.policy()
    out: list[str] = []
    for f in trades:
        if f.paid_late:
            out.append(f"late payment: trade #{f.trade_id}, buyer {f.buyer} paid after the due date")
    for members in _cells(trades).values():
        if len(members) < 2:
            continue
        for m in members:
            others = [_unit_price(o) or 0.0 for o in members if o is not m]
            reference = sum(others) / len(others)
            price = _unit_price(m) or 0.0
            if reference and abs(price - reference) * 10_000 / reference > policy.price_deviation_bps:
                out.append(f"price far from the index: trade #{m.trade_id} ({m.grade}, {m.chemistry}, {m.quarter}) "
                           f"at {price:,.0f} {m.price.currency if m.price else ''}/kWh vs {reference:,.0f} for the "
                           f"other trades of its cell (threshold {policy.price_deviation_bps / 100:g} %)")
    for f in trades:
        if f.price is None and not f.withdrawn:
            out.append(f"no stored price opens the commitment of trade #{f.trade_id}")
    parties = {p for f in trades for p in (f.seller, f.buyer)}
    for party in sorted(parties):
        record = ledger.trades.party(party)
        if record.disputes_against >= REPEATED_DISPUTES:
            out.append(f"repeated disputes: {record.disputes_against} against {party} "
                       f"({record.disputes_upheld_against} upheld)")
    for d in stats.declarations:
        if not d.meets_efficiency or not d.meets_recovery:
            out.append(f"recycling declaration #{d.declaration_id} of {d.recycler} misses the {d.target_year} target "
                       f"(efficiency {d.efficiency_bps / 100:.2f} % vs {d.efficiency_target_bps / 100:g} %)")
    out.extend(_undeclared_lots(ev, stats))
    stats.signals = out


def _undeclared_lots(ev: _Events, stats: Statistics) -> list[str]:
    """Certified lots whose production period ended inside a live declaration's period of their recycler but that no
    declaration lists (the contract checks the lots a declaration lists; completeness is checked here)."""
    r, certs = ev.ledger.recycling, ev.ledger.certificates
    periods = [(d.recycler, r.declaration(d.declaration_id)) for d in stats.declarations if d.status != "rejected"]
    out = []
    for e in ev.logs(certs.contract, "LotCertified"):
        lot = certs.lot(int(e["args"]["lotId"]))
        if (lot.status != LotStatus.CERTIFIED or lot.feedstock != Feedstock.POST_CONSUMER
                or r.declaration_of_lot(lot.lot_id)):
            continue
        for recycler, d in periods:
            if recycler == lot.recycler and d.period_start <= lot.period_end <= d.period_end:
                out.append(f"lot #{lot.lot_id} of {recycler} ended its production in the period of declaration "
                           f"#{d.declaration_id} but is not listed in it")
    return out
