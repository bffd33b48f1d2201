"""Charts of the statistics (PNG and SVG, matplotlib) for ``bledger stats --charts DIR`` and the ministries' page."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from chain_client.recycling import ANNEX_XII, ChemistryClass  # noqa: E402
from chain_client.statistics import Statistics  # noqa: E402

COLORS = ["#2a6f97", "#61a5c2", "#f4a261", "#e76f51", "#8ab17d", "#b56576", "#6d597a"]


def _save(fig: Figure, out: Path, name: str) -> list[Path]:
    fig.tight_layout()
    paths = [out / f"{name}.png", out / f"{name}.svg"]
    for path in paths:
        fig.savefig(path, dpi=120)
    plt.close(fig)
    return paths


def _bars(ax: Axes, labels: list[str], values: list[float], color: str = COLORS[0], counts: bool = False) -> None:
    bars = ax.bar(labels, values, color=color)
    if counts:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.bar_label(bars, fmt="{:,.0f}", fontsize=8)
    ax.tick_params(axis="x", labelrotation=20, labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)


def _empty(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="grey")
    ax.set_xticks([])
    ax.set_yticks([])


def write_charts(stats: Statistics, out: Path) -> list[Path]:
    """Writes every chart as PNG and SVG into ``out`` and returns the files."""
    out.mkdir(parents=True, exist_ok=True)
    return [*_life_cycle(stats, out), *_materials(stats, out), *_trades(stats, out), *_recycling(stats, out)]


def _life_cycle(stats: Statistics, out: Path) -> list[Path]:
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    _bars(axes[0], list(stats.batteries_by_status), list(stats.batteries_by_status.values()))
    axes[0].set_title("Batteries by status")
    if any(v > 0 for v in stats.batteries_by_status.values()):
        axes[0].set_yscale("log")  # a log scale needs a battery to show; an empty ledger keeps the linear axis
    else:
        _empty(axes[0], "no battery yet")
    _bars(axes[1], list(stats.second_life_flows), list(stats.second_life_flows.values()), COLORS[4], counts=True)
    axes[1].set_title("Second-life flows (passport transitions)")
    if stats.grades:
        _bars(axes[2], list(stats.grades), list(stats.grades.values()), COLORS[2], counts=True)
    else:
        _empty(axes[2], "no evaluation yet")
    axes[2].set_title("Grades of evaluations before removal")
    return _save(fig, out, "life_cycle")


def _materials(stats: Statistics, out: Path) -> list[Path]:
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    quarters = list(stats.certified_grams)
    metals = sorted({m for q in stats.certified_grams.values() for m in q})
    if quarters:
        bottom = [0.0] * len(quarters)
        for i, metal in enumerate(metals):
            values = [stats.certified_grams[q].get(metal, 0) / 1_000 for q in quarters]
            axes[0].bar(quarters, values, bottom=bottom, label=metal, color=COLORS[i % len(COLORS)])
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        axes[0].legend(fontsize=8)
    else:
        _empty(axes[0], "no certified lot yet")
    axes[0].set_title("Certified recycled mass per quarter (kg, revoked lots excluded)")
    shares = stats.recycled_content
    if shares:
        _bars(axes[1], list(shares), [v["shareBps"] / 100 for v in shares.values()], COLORS[1])
        axes[1].set_ylabel("%")
    else:
        _empty(axes[1], f"no untainted attested claim ({stats.claims_attested} attested, {stats.claims_tainted} "
                        "tainted by a revoked lot)")
    axes[1].set_title("Attested recycled-content share by metal (%)")
    return _save(fig, out, "materials")


def _trades(stats: Statistics, out: Path) -> list[Path]:
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    volume = stats.trade_volume
    if volume:
        quarters = list(volume)
        _bars(axes[0], quarters, [v.get("batteries", 0) for v in volume.values()], COLORS[0], counts=True)
        axes[0].set_ylabel("batteries")
    else:
        _empty(axes[0], "no trade yet")
    axes[0].set_title("Used-battery trade volume per quarter")
    published = [c for c in stats.price_index if c.mean_per_kwh is not None]
    if published:
        labels = [f"{c.grade}\n{c.chemistry}\n{c.quarter}" for c in published]
        _bars(axes[1], labels, [float(c.mean_per_kwh or 0) for c in published], COLORS[2])
        axes[1].set_ylabel(f"{published[0].currency} per kWh")
    else:
        _empty(axes[1], f"no cell with at least k={stats.min_index_trades} trades")
    withheld = len(stats.price_index) - len(published)
    axes[1].set_title(f"Price index (cells with >= {stats.min_index_trades} trades; {withheld} withheld)")
    return _save(fig, out, "trades")


def _recycling(stats: Statistics, out: Path) -> list[Path]:
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    agg = stats.recycling_aggregate
    in_force = ANNEX_XII[0]
    if stats.tier == "authority" and stats.declarations:
        labels = [f"#{d.declaration_id} {d.recycler[:8]}\n{d.chemistry}" for d in stats.declarations]
        values = [d.efficiency_bps / 100 for d in stats.declarations]
        colors = [COLORS[4] if d.meets_efficiency else COLORS[3] for d in stats.declarations]
        bars = axes[0].bar(labels, values, color=colors)
        axes[0].bar_label(bars, fmt="{:.1f} %", fontsize=8)
        axes[0].set_title("Recycling efficiency per declaration (authority tier)")
    elif agg:
        _bars(axes[0], list(agg), [v["efficiencyBps"] / 100 for v in agg.values()], COLORS[4])
        axes[0].set_title("Recycling efficiency, attested declarations in aggregate (%)")
    else:
        _empty(axes[0], "no declaration yet")
    axes[0].axhline(in_force.efficiency_bps[ChemistryClass.LITHIUM_BASED] / 100, color="grey", linestyle="--",
                    label="lithium-based target, end 2025")
    axes[0].legend(fontsize=8, loc="lower right")
    axes[0].set_ylim(0, 100)
    rec = stats.recovery_aggregate
    if rec:
        _bars(axes[1], list(rec), [v["recoveryBps"] / 100 for v in rec.values()], COLORS[1])
        axes[1].set_ylim(0, 100)
    else:
        _empty(axes[1], "no attested declaration yet")
    axes[1].set_title("Material recovery, attested declarations (%)")
    return _save(fig, out, "recycling")
