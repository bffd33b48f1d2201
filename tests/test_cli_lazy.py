"""``bledger`` loads the module of the command it runs only: its table of commands must match what the modules
define, and the main help must not import the chain stack."""

from __future__ import annotations

import importlib
import subprocess
import sys

import typer
from typer.testing import CliRunner

from chain_client.cli import COMMANDS, app, load_command


def test_every_listed_command_loads_from_its_module() -> None:
    for name, _help, _load in COMMANDS:
        command = load_command(name)
        assert command.name == name


def test_every_command_the_modules_attach_is_listed() -> None:
    listed = {name for name, _, _ in COMMANDS}
    for module in ("chain_client.cli.suite", "chain_client.cli.verify", "api.cli"):
        holder = typer.Typer()
        importlib.import_module(module).attach(holder)
        names = {str(c.name) for c in holder.registered_commands} | {str(g.name) for g in holder.registered_groups}
        assert names <= listed, f"{module} defines {sorted(names - listed)}, missing from chain_client.cli.COMMANDS"


def test_the_main_help_lists_every_command_without_importing_web3() -> None:
    code = ("import sys; from typer.testing import CliRunner; from chain_client.cli import app; "
            "r = CliRunner().invoke(app, ['--help']); assert r.exit_code == 0, r.output; "
            "print('web3' in sys.modules, 'cert' in r.output, 'recycle' in r.output)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True", "True"]


def test_an_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["no-such-command"])
    assert result.exit_code == 2 and "No such command" in result.output
