"""``bledger stats``: statistics from the chain's events, with charts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from chain_client.charts import write_charts
from chain_client.cli.common import DeploymentOpt, RpcOpt, console, open_ledger, reports_errors
from chain_client.price_store import PriceStore
from chain_client.statistics import Tier, compute
from chain_client.statistics_report import print_statistics


@reports_errors
def stats(
    rpc: RpcOpt,
    deployment: DeploymentOpt = Path("deployment.json"),
    charts: Annotated[Path | None, typer.Option(help="Write the charts (PNG and SVG) into this folder.")] = None,
    tier: Annotated[str, typer.Option(help="public, or authority (per recycler, signals).")] = "public",
    data: Annotated[Path, typer.Option("--data", envvar="BLEDGER_DATA",
                                       help="Folder of the price store and the published model sheets.")]
    = Path("bledger-data"),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Statistics of a deployment: batteries by status, category and chemistry; removals and grades; second-life
    flows; certified recycled mass per metal per quarter; attested recycled-content shares; trade volumes and the
    price index; recycling efficiency (aggregate; per recycler with --tier authority)."""
    if tier not in ("public", "authority"):
        raise ValueError(f"--tier must be public or authority, not {tier!r}")
    ledger, _ = open_ledger(rpc, deployment)
    prices = PriceStore.in_data_dir(data) if (data / "prices.sqlite").is_file() else None
    tier_value: Tier = "authority" if tier == "authority" else "public"
    result = compute(ledger, tier_value, prices, data)
    if as_json:
        console.print_json(json.dumps(result.as_dict()))
    else:
        print_statistics(console, result)
    if charts is not None:
        files = write_charts(result, charts)
        console.print(f"{len(files)} chart files written to {charts}: {', '.join(sorted(p.name for p in files))}")
