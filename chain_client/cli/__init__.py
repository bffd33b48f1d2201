"""``bledger``: one Typer app gathering each package's subcommands."""

from __future__ import annotations

import typer

from typing import Annotated

from api import cli as api_cli
from chain_client.cli import battery, certificates, claims, governance, network, registry, safety, suite, verify
from chain_client.cli import recycling as recycling_cli
from chain_client.cli import stats as stats_cli
from chain_client.cli import trade as trade_cli
from chain_client.cli.common import KeyPolicy
from oracles import cli as oracle_cli

app = typer.Typer(
    name="bledger",
    help="Battery Ledger: certified recycled battery materials on a permissioned EVM chain.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def main(
    allow_dev_keys: Annotated[bool, typer.Option(
        "--allow-dev-keys", envvar="BLEDGER_ALLOW_DEV_KEYS",
        help="Accept the public dev:N keys on a chain whose id is not 31337 or 1337 (throwaway chains only).")]
    = False,
) -> None:
    """Battery Ledger: certified recycled battery materials on a permissioned EVM chain."""
    KeyPolicy.allow_dev_keys = allow_dev_keys
    KeyPolicy.chain_id = None  # known once the command connects; dev keys are refused before that


suite.attach(app)
app.add_typer(registry.app, name="registry", help="Business registration (authorities).")
app.add_typer(certificates.app, name="cert", help="Production certificates (recyclers, MoE, holders).")
app.add_typer(claims.app, name="claim", help="Usage claims and attestations (cell makers, MOTIE, verifiers).")
app.add_typer(battery.app, name="battery", help="Battery life-cycle record (passport): register, import, move, prove.")
app.add_typer(safety.evaluations, name="eval", help="Performance evaluation before removal (evaluators, MOLIT).")
app.add_typer(safety.inspections, name="inspect", help="Safety inspections (inspection bodies).")
app.add_typer(safety.transport, name="transport", help="Shipment legs (transporters).")
app.add_typer(safety.storage, name="storage", help="Storage sites (storage operators).")
verify.attach(app)
app.add_typer(oracle_cli.app, name="oracle", help="Sign and submit equipment measurement files.")
app.add_typer(governance.app, name="governance",
              help="The ministries' policy committee: propose, approve, execute rule changes; status.")
api_cli.attach(app)
app.add_typer(network.app, name="network", help="A multi-validator geth Clique network: up, status, down, votes.")
app.add_typer(trade_cli.app, name="trade",
              help="Used-battery trades (Fair Trade Guideline): sell, confirm, pay, dispute.")
app.add_typer(recycling_cli.app, name="recycle",
              help="Annex XII recycling efficiency declarations (recyclers, MoE).")
app.command("stats")(stats_cli.stats)
