"""``bledger network``: run a multi-validator geth Clique network, see its state, govern its validator set."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from web3 import Web3

from chain_client import network as net
from chain_client.cli.common import console, reports_errors

app = typer.Typer(no_args_is_help=True)

DirOpt = Annotated[Path, typer.Option("--dir", envvar="BLEDGER_NETWORK_DIR", help="The network directory.")]
DEFAULT_DIR = Path("bledger-network")


@app.command("up")
@reports_errors
def up(
    validators: Annotated[int | None, typer.Option(
        help="Number of sealing nodes, at least 3 (new network; default 3).")] = None,
    directory: DirOpt = DEFAULT_DIR,
    period: Annotated[int, typer.Option(help="Clique block period in seconds (new network only).")] = net.DEFAULT_PERIOD,
    fund: Annotated[list[str] | None, typer.Option(
        help="Address credited in the genesis (repeat; new network only). Default: the public dev accounts.")] = None,
    base_port: Annotated[int | None, typer.Option(
        help="Node i listens on HTTP base+i, p2p base+100+i, engine API base+200+i (new network only). "
             "Default: free ports.")] = None,
) -> None:
    """Create (keys, Clique genesis) and start a network of N sealing geth nodes; on an existing directory, restart
    the nodes that are not running from their data."""
    if fund is not None:
        for address in fund:
            if not Web3.is_address(address):
                raise ValueError(f"--fund {address!r} is not an address")
    network, created = net.up(directory, validators, period, fund, base_port)
    console.print(f"{'created' if created else 'restarted'} {len(network.nodes)} sealing nodes of chain "
                  f"{network.chain_id} (Clique, {network.period}s blocks) in {network.directory}")
    _print_status(network)
    console.print(f"client: --rpc {','.join(network.urls)}")


@app.command("status")
@reports_errors
def status(directory: DirOpt = DEFAULT_DIR) -> None:
    """Each node's head, peers and signer."""
    _print_status(net.Network.load(directory))


@app.command("down")
@reports_errors
def down(directory: DirOpt = DEFAULT_DIR) -> None:
    """Stop every node by the PID recorded when it was started (data is kept: `up` restarts from it)."""
    network = net.Network.load(directory)
    network.stop_watchdog()
    for node in network.nodes:
        was = network.is_running(node)
        network.stop_node(node)
        console.print(f"{node.name}: {'stopped' if was else 'was not running'}")


@app.command("vote")
@reports_errors
def vote(
    address: Annotated[str, typer.Argument(help="Sealing address to add or remove.")],
    node: Annotated[str, typer.Option(help="The voting ministry's node (its sealer casts the vote).")],
    add: Annotated[bool, typer.Option("--add/--remove", help="Add the address as a sealer, or remove it.")] = True,
    discard: Annotated[bool, typer.Option(help="Withdraw this node's vote on the address instead.")] = False,
    directory: DirOpt = DEFAULT_DIR,
) -> None:
    """One ministry's vote on the validator set, cast through its node's IPC socket (operator only). The change
    takes effect when more than half of the current sealers have voted the same way (Clique), never on one vote."""
    if not Web3.is_address(address):
        raise ValueError(f"{address!r} is not an address")
    network = net.Network.load(directory)
    voter = network.node(node)
    if discard:
        network.discard(voter, address)
        console.print(f"{voter.name} withdrew its vote on {Web3.to_checksum_address(address)}")
        return
    network.vote(voter, address, add)
    signers = network.signers(voter)
    console.print(f"{voter.name} ({voter.signer}) votes to {'add' if add else 'remove'} "
                  f"{Web3.to_checksum_address(address)}; it takes effect with {len(signers) // 2 + 1} of "
                  f"{len(signers)} sealers' votes, each cast in a block its sealer seals")


@app.command("heal")
@reports_errors
def heal(directory: DirOpt = DEFAULT_DIR) -> None:
    """Settle a Clique fork deadlock now (the watchdog `up` starts does it when no head moves for a few periods):
    the nodes on the losing branch drop their last block and take the other branch."""
    import time

    from chain_client.watchdog import heads
    from chain_client.watchdog import heal as settle

    network = net.Network.load(directory)
    before = heads(network)
    time.sleep(3 * network.period + 2)
    if max((h for h, _ in heads(network).values()), default=-1) > max((h for h, _ in before.values()), default=-1):
        console.print("the chain is moving: nothing to heal")
        return
    healed = settle(network)
    console.print(f"rewound {', '.join(healed)} onto the other branch" if healed else "no fork: nothing to do")


@app.command("signers")
@reports_errors
def signers(directory: DirOpt = DEFAULT_DIR) -> None:
    """The current validator set and each running node's open votes."""
    network = net.Network.load(directory)
    current = network.signers()
    console.print(f"{len(current)} sealers (a change needs {len(current) // 2 + 1} votes): {', '.join(current)}")
    for node in network.nodes:
        if network.is_running(node):
            votes = network.proposals(node)
            shown = ", ".join(f"{'add' if v else 'remove'} {a}" for a, v in votes.items()) or "none"
            console.print(f"{node.name} open votes: {shown}")


def _print_status(network: net.Network) -> None:
    table = Table(title=f"network {network.directory} (chain {network.chain_id})")
    for col in ("node", "RPC", "signer", "sealer", "head", "head hash", "peers", "pid"):
        table.add_column(col)
    for st, node in zip(net.status(network), network.nodes, strict=True):
        if not st.running:
            table.add_row(st.name, st.url, st.signer, "", "down", "", "", "")
            continue
        table.add_row(st.name, st.url, st.signer, "yes" if st.sealer else "no" if st.sealer is False else "?",
                      str(st.head) if st.head is not None else st.error or "?",
                      (st.head_hash or "")[:18], str(st.peers if st.peers is not None else "?"), str(node.pid))
    console.print(table)
    console.print(f"fork watchdog: {'running, pid ' + str(network.watchdog_pid) if network.watchdog_running() else 'not running'}"
                  f" (log: {network.directory / 'watchdog.log'})")
