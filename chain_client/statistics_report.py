"""Prints :class:`~chain_client.statistics.Statistics` as tables (``bledger stats`` and the demo)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from chain_client.statistics import Statistics


def _kv(title: str, data: dict[str, int], unit: str = "") -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("")
    table.add_column(unit or "count", justify="right")
    for k, v in data.items():
        table.add_row(k, f"{v:,}")
    return table


def _pct(bps: int) -> str:
    return f"{bps / 100:.2f} %"


def print_statistics(out: Console, s: Statistics) -> None:
    out.print(f"[bold]Statistics ({s.tier} tier)[/bold]")
    for title, data in (("Batteries by status", s.batteries_by_status),
                        ("Batteries by category", s.batteries_by_category),
                        ("Batteries by chemistry", s.batteries_by_chemistry),
                        ("Removals per quarter", s.removals_by_quarter),
                        ("Grades of evaluations before removal", s.grades),
                        ("Second-life flows", s.second_life_flows)):
        out.print(_kv(title, data))
    certified = Table(title="Certified recycled mass per quarter (kg; revoked lots excluded)", title_justify="left")
    metals = sorted({m for q in s.certified_grams.values() for m in q})
    certified.add_column("quarter")
    for m in metals:
        certified.add_column(m, justify="right")
    for quarter, per_metal in s.certified_grams.items():
        certified.add_row(quarter, *(f"{per_metal.get(m, 0) / 1_000:,.0f}" for m in metals))
    out.print(certified)
    shares = Table(title=f"Attested recycled content by metal ({s.claims_attested - s.claims_tainted} untainted of "
                         f"{s.claims_attested} attested claims)", title_justify="left")
    for col in ("metal", "in batteries (kg)", "recycled (kg)", "share"):
        shares.add_column(col, justify="right")
    for metal, v in s.recycled_content.items():
        shares.add_row(metal, f"{v['contentGrams'] / 1_000:,.0f}", f"{v['recycledGrams'] / 1_000:,.0f}",
                       _pct(v["shareBps"]))
    out.print(shares)
    volume = Table(title="Used-battery trades per quarter", title_justify="left")
    for col in ("quarter", "trades", "batteries", "kWh", "late payments", "disputes"):
        volume.add_column(col, justify="right")
    for quarter, v in s.trade_volume.items():
        volume.add_row(quarter, *(f"{v.get(k, 0):,}" for k in ("trades", "batteries", "kWh", "latePayments",
                                                                "disputes")))
    out.print(volume)
    index = Table(title=f"Price index (published where a cell holds >= k={s.min_index_trades} trades from >= 2 "
                        "sellers)", title_justify="left")
    for col in ("grade", "chemistry", "quarter", "trades", "mean price per kWh"):
        index.add_column(col, justify="right")
    for c in s.price_index:
        shown = f"{c.mean_per_kwh:,} {c.currency}" if c.mean_per_kwh is not None else "[dim]withheld (< k)[/dim]"
        index.add_row(c.grade, c.chemistry, c.quarter, str(c.trades), shown)
    out.print(index)
    agg = Table(title="Recycling efficiency, attested declarations in aggregate", title_justify="left")
    for col in ("class", "input (kg)", "output (kg)", "efficiency"):
        agg.add_column(col, justify="right")
    for cls, v in s.recycling_aggregate.items():
        agg.add_row(cls, f"{v['inputGrams'] / 1_000:,.0f}", f"{v['outputGrams'] / 1_000:,.0f}",
                    _pct(v["efficiencyBps"]))
    for metal, v in s.recovery_aggregate.items():
        agg.add_row(f"recovery {metal}", f"{v['inputGrams'] / 1_000:,.0f}", f"{v['recoveredGrams'] / 1_000:,.0f}",
                    _pct(v["recoveryBps"]))
    out.print(agg)
    if s.tier != "authority":
        return
    per = Table(title="Recycling declarations (authority tier)", title_justify="left")
    for col in ("#", "recycler", "class", "status", "period end", "efficiency", "target", "recovery", "verdict"):
        per.add_column(col, justify="right")
    for d in s.declarations:
        recovery = ", ".join(f"{m} {_pct(v)}" for m, v in d.recovery_bps.items())
        verdict = "[green]meets[/green]" if d.meets_efficiency and d.meets_recovery else "[red]misses[/red]"
        per.add_row(str(d.declaration_id), d.recycler[:10] + "…", d.chemistry, d.status, d.period_end,
                    _pct(d.efficiency_bps), f"{d.target_year}: {_pct(d.efficiency_target_bps)}", recovery, verdict)
    out.print(per)
    out.print("[bold]Unfair-practice and consistency signals (authority tier)[/bold]")
    for line in s.signals or ["none"]:
        out.print(f"  • {line}")
