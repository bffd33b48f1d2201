"""Runs the benchmarks: ``python -m bench [gas|passports|evaluations|throughput|cli|oracles|api|verify|network|market|all]
[--rpc URL] [--quick]`` (``make bench``)."""

import argparse

from rich.console import Console

from bench import api, evaluations, gas, market, network, oracles, passports, throughput, verify
from chain_client.anvil import AnvilNode
from chain_client.backends import EmbeddedBackend, RpcBackend

parser = argparse.ArgumentParser(prog="python -m bench")
parser.add_argument("which", nargs="?", default="all",
                    choices=["gas", "passports", "evaluations", "throughput", "cli", "oracles", "api", "verify",
                             "network", "market", "all"])
parser.add_argument("--rpc", help="measure gas on this JSON-RPC node instead of the embedded chain")
parser.add_argument("--anvil", action="store_true", help="measure gas on a local anvil node started for the run")
parser.add_argument("--quick", action="store_true",
                    help="imports of 100,000 only, one run; 100 network acts; 10,000 events for the API indexer; "
                         "200 transfers of throughput")
args = parser.parse_args()
console = Console(width=120)
if args.which in ("gas", "all"):
    if args.anvil:
        with AnvilNode() as node:
            gas.run(RpcBackend(node.url), console)
    else:
        gas.run(EmbeddedBackend() if args.rpc is None else RpcBackend(args.rpc), console)
if args.which in ("passports", "all"):
    passports.run(console, [100_000] if args.quick else [100_000, 1_000_000, 3_000_000], 1 if args.quick else 3)
if args.which in ("evaluations", "all"):
    evaluations.run(console)
if args.which in ("throughput", "all"):
    throughput.run(console, 200 if args.quick else 1_000, 3)
if args.which in ("cli", "all"):
    from bench import cli

    cli.run(console, 3 if args.quick else 5)
if args.which in ("verify", "all"):
    verify.run(console, 100 if args.quick else 1_000, 1_000)
if args.which in ("oracles", "all"):
    oracles.run(console, 100 if args.quick else 300)
if args.which in ("api", "all"):
    api.run(console, 100 if args.quick else 200, 21 if args.quick else 42, 10_000 if args.quick else 100_000)
if args.which in ("network", "all"):
    network.run(console, 100 if args.quick else 250)
if args.which in ("market", "all"):
    market.run(console)
