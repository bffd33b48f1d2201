"""``bledger``: one Typer app gathering each package's subcommands.

The subcommands are loaded lazily: ``bledger`` imports only the module of the command it runs (web3, the compiler,
the API's FastAPI/SQLModel stack, matplotlib... are imported by the commands that need them), and ``bledger --help``
lists the commands from the table below without importing any of them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup


def _group(module: str, attribute: str = "app") -> Callable[[typer.Typer, str, str], None]:
    """Loader of a sub-app: ``bledger NAME ...`` is ``module.attribute``."""

    def load(app: typer.Typer, name: str, help_text: str) -> None:
        app.add_typer(getattr(importlib.import_module(module), attribute), name=name, help=help_text)

    return load


def _attached(module: str) -> Callable[[typer.Typer, str, str], None]:
    """Loader of commands a module attaches to the main app itself (``module.attach(app)``)."""

    def load(app: typer.Typer, name: str, help_text: str) -> None:
        importlib.import_module(module).attach(app)

    return load


def _command(module: str, attribute: str) -> Callable[[typer.Typer, str, str], None]:
    def load(app: typer.Typer, name: str, help_text: str) -> None:
        app.command(name)(getattr(importlib.import_module(module), attribute))

    return load


#: Every subcommand of ``bledger`` in the order of ``bledger --help``: (name, short help, loader).
COMMANDS: list[tuple[str, str, Callable[[typer.Typer, str, str], None]]] = [
    ("build", "Compile contracts/ into chain_client/artifacts/.", _attached("chain_client.cli.suite")),
    ("demo", "Run the whole story on the embedded chain (or --rpc) and print the report.",
     _attached("chain_client.cli.suite")),
    ("deploy", "Deploy the suite to a JSON-RPC node; governance goes to the ministries' committee.",
     _attached("chain_client.cli.suite")),
    ("registry", "Business registration (authorities).", _group("chain_client.cli.registry")),
    ("cert", "Production certificates (recyclers, MoE, holders).", _group("chain_client.cli.certificates")),
    ("claim", "Usage claims and attestations (cell makers, MOTIE, verifiers).", _group("chain_client.cli.claims")),
    ("battery", "Battery life-cycle record (passport): register, import, move, prove.",
     _group("chain_client.cli.battery")),
    ("eval", "Performance evaluation before removal (evaluators, MOLIT).",
     _group("chain_client.cli.safety", "evaluations")),
    ("inspect", "Safety inspections (inspection bodies).", _group("chain_client.cli.safety", "inspections")),
    ("transport", "Shipment legs (transporters).", _group("chain_client.cli.safety", "transport")),
    ("storage", "Storage sites (storage operators).", _group("chain_client.cli.safety", "storage")),
    ("prove", "Proof bundles for importers (needs a node serving eth_getProof).", _attached("chain_client.cli.verify")),
    ("verify", "Verify a proof bundle offline (no network): exit 0 with the verdict, or 1 naming the first failure.",
     _attached("chain_client.cli.verify")),
    ("credential", "W3C Verifiable Credentials of lots (MoE) and claims (MOTIE).",
     _attached("chain_client.cli.verify")),
    ("oracle", "Sign and submit equipment measurement files.", _group("oracles.cli")),
    ("governance", "The ministries' policy committee: propose, approve, execute rule changes; status.",
     _group("chain_client.cli.governance")),
    ("serve", "Start the API with its relayer and indexer (embedded chain and SQLite by default, or --rpc).",
     _attached("api.cli")),
    ("index", "The API's chain index (SQL).", _attached("api.cli")),
    ("api", "API helpers: sign prepared requests and sign-in messages, OpenAPI.", _attached("api.cli")),
    ("network", "A multi-validator geth Clique network: up, status, down, votes.", _group("chain_client.cli.network")),
    ("trade", "Used-battery trades (Fair Trade Guideline): sell, confirm, pay, dispute.",
     _group("chain_client.cli.trade")),
    ("recycle", "Annex XII recycling efficiency declarations (recyclers, MoE).", _group("chain_client.cli.recycling")),
    ("stats", "Statistics of a deployment: batteries, removals and grades, second life, certified mass, shares, "
              "trades and prices, recycling efficiency.", _command("chain_client.cli.stats", "stats")),
]
_BY_NAME = {name: (help_text, load) for name, help_text, load in COMMANDS}


class LazyGroup(TyperGroup):
    """The main group: lists the commands of :data:`COMMANDS` and imports one only when it is run (or its own
    help is asked)."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [name for name, _, _ in COMMANDS] + [n for n in super().list_commands(ctx) if n not in _BY_NAME]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in _BY_NAME:
            return super().get_command(ctx, cmd_name)
        if ctx.resilient_parsing or ctx.meta.get("bledger.listing"):  # the commands table: a stand-in with the help
            help_text = _BY_NAME[cmd_name][0]
            return TyperCommand(cmd_name, help=help_text, short_help=help_text)
        return load_command(cmd_name)


def load_command(name: str) -> Any:
    """The click command ``bledger NAME``, built from its module."""
    help_text, load = _BY_NAME[name]
    holder = typer.Typer(pretty_exceptions_enable=False)
    load(holder, name, help_text)
    holder.command("-", hidden=True)(lambda: None)  # two entries: typer then always makes a group
    group = typer.main.get_command(holder)
    assert isinstance(group, TyperGroup)
    command = group.commands.get(name)
    assert command is not None, f"{name} is not defined by its module"
    return command


class _Main(LazyGroup):
    def format_help(self, ctx: Any, formatter: Any) -> None:
        ctx.meta["bledger.listing"] = True
        try:
            super().format_help(ctx, formatter)
        finally:
            ctx.meta.pop("bledger.listing", None)


app = typer.Typer(
    name="bledger",
    help="Battery Ledger: certified recycled battery materials on a permissioned EVM chain.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=_Main,
)


@app.callback()
def main(
    allow_dev_keys: Annotated[bool, typer.Option(
        "--allow-dev-keys", envvar="BLEDGER_ALLOW_DEV_KEYS",
        help="Accept the public dev:N keys on a chain whose id is not 31337 or 1337 (throwaway chains only).")]
    = False,
) -> None:
    """Battery Ledger: certified recycled battery materials on a permissioned EVM chain."""
    from chain_client.cli.common import KeyPolicy

    KeyPolicy.allow_dev_keys = allow_dev_keys
    KeyPolicy.chain_id = None  # known once the command connects; dev keys are refused before that
