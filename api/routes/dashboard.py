"""The statistics the ministries steer by: as JSON (public tier for anyone, the authority tier for the ministries)
and as the dashboard page ``/dashboard`` with the charts of ``bledger stats --charts`` (public tier: aggregates
only; the price index withholds every cell with fewer than k trades)."""

from __future__ import annotations

import tempfile
from html import escape
from pathlib import Path as FilePath
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import Chain, Perms, require_authority
from api.problems import responses
from chain_client.charts import write_charts
from chain_client.price_store import PriceStore
from chain_client.statistics import Statistics, compute

router = APIRouter(tags=["statistics"])


def _stats(chain: Chain, request: Request, tier: str) -> Statistics:
    """The statistics of ``tier``; the price index reads the agreed prices the portal keeps in its data folder
    (authority tier, checked against the on-chain commitments), and publishes only cells of at least k trades."""
    data: FilePath = request.app.state.settings.data_dir
    store = data / "prices.sqlite"
    prices = PriceStore(store) if store.is_file() else None
    return compute(chain.ledger, tier, prices=prices, data=data if data.is_dir() else None)  # type: ignore[arg-type]


@router.get("/v1/public/statistics", response_model=dict[str, Any], responses=responses(503))
def public_statistics(chain: Chain, request: Request) -> dict[str, Any]:
    """Batteries by status and category, removals and grades, second-life flows, certified recycled mass per metal
    per quarter, attested recycled-content shares, trade volumes, the price index (cells of at least k trades) and
    recycling efficiency in aggregate."""
    return _stats(chain, request, "public").as_dict()


@router.get("/v1/statistics", response_model=dict[str, Any], responses=responses(401, 403, 503))
def authority_statistics(perms: Perms, chain: Chain, request: Request) -> dict[str, Any]:
    """Everything, with each recycler's declarations and the unfair-practice signals (ministries only)."""
    require_authority(perms, "moe", "motie", "molit")
    return _stats(chain, request, "authority").as_dict()


def _table(title: str, rows: dict[str, Any]) -> str:
    body = "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>" for k, v in rows.items())
    return f"<section><h2>{escape(title)}</h2><table>{body or '<tr><td>none yet</td></tr>'}</table></section>"


@router.get("/dashboard", response_class=HTMLResponse, responses=responses(503))
def dashboard(chain: Chain, request: Request) -> HTMLResponse:
    """The dashboard page: the public statistics with their charts."""
    stats = _stats(chain, request, "public")
    with tempfile.TemporaryDirectory() as tmp:
        charts = [p.read_text() for p in sorted(write_charts(stats, FilePath(tmp))) if p.suffix == ".svg"]
    index = {f"{c.grade} / {c.chemistry} / {c.quarter}": (f"{c.mean_per_kwh:,} {c.currency}/kWh"
             if c.mean_per_kwh is not None else f"withheld ({c.trades} < k = {stats.min_index_trades})")
             for c in stats.price_index}
    figures = "".join(f'<figure class="chart">{svg[svg.find("<svg"):]}</figure>' for svg in charts)
    html = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Battery Ledger statistics</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1300px}}table{{border-collapse:collapse}}
th,td{{border:1px solid #ccc;padding:.2em .6em;text-align:left}}section{{display:inline-block;vertical-align:top;
margin:0 2em 1em 0}}figure.chart svg{{max-width:100%;height:auto}}</style></head><body>
<h1>Battery Ledger: the statistics the ministries steer by</h1>
<p>Read from the chain at block {chain.w3.eth.block_number}; public tier (aggregates only).</p>
{_table("Batteries by status", stats.batteries_by_status)}
{_table("Batteries by category", stats.batteries_by_category)}
{_table("Grades before removal", stats.grades)}
{_table("Second-life flows", stats.second_life_flows)}
{_table("Price index (grade / chemistry / quarter)", index)}
{figures}
</body></html>"""
    return HTMLResponse(html)
