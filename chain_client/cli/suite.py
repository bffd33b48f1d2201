"""Top-level commands: build, demo, deploy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chain_client.backends import EmbeddedBackend, RpcBackend
from chain_client.build import build as build_artifacts
from chain_client.cli.common import (
    KeyOpt, KeyPolicy, RpcOpt, address, confirmations_setting, console, reports_errors, signer, writable_path,
)
from chain_client.demo import PARTIES, run_demo
from chain_client.errors import LedgerError
from chain_client.suite import DEFAULT_DELAY
from chain_client.suite import deploy as deploy_suite
from chain_client.transactions import TxSender


ConfirmationsOpt = Annotated[int | None, typer.Option(
    envvar="BLEDGER_CONFIRMATIONS", min=1,
    help="Blocks (the act's own included) before an act is reported final. Default: 1 on dev nodes, 3 otherwise.")]


def attach(app: typer.Typer) -> None:
    app.command("build")(build)
    app.command("demo")(demo)
    app.command("deploy")(deploy)


@reports_errors
def build(
    compiler: Annotated[str, typer.Option(help="solcjs, native or auto (native solc when installed).")] = "auto",
) -> None:
    """Compile contracts/ and write the artifacts (Hardhat format) into chain_client/artifacts/."""
    artifacts = build_artifacts(compiler=compiler)
    deployable = sorted(n for n, a in artifacts.items() if len(a.bytecode) > 2)
    console.print(f"compiled {len(artifacts)} contracts ({len(deployable)} deployable): {', '.join(deployable)}")


@reports_errors
def demo(
    rpc: Annotated[list[str] | None, typer.Option(
        "--rpc", help="Run on this node (or these nodes of one chain: repeat or comma list) instead of the embedded "
                      "chain. Needs the dev accounts funded (anvil, Hardhat, `bledger network up`).")] = None,
    deployment: Annotated[Path | None, typer.Option(
        "--deployment", help="Write the demo's deployment file here (needs --rpc), to use the node afterwards.")] = None,
    data: Annotated[Path | None, typer.Option(
        "--data", help="Keep the demo's passport documents here (default with --deployment: bledger-data).")] = None,
    revocation: Annotated[bool, typer.Option(
        help="End with MoE revoking the cobalt lot (the claim becomes tainted); --no-revocation stops before.")] = True,
    batteries: Annotated[Path | None, typer.Option(
        "--batteries", help="Write the identifiers the claim covers here, one a line (for bledger prove).")] = None,
    confirmations: ConfirmationsOpt = None,
) -> None:
    """Run the whole certification story on a fresh chain (embedded, or --rpc) and print the report."""
    rpc = rpc or None
    if deployment is not None and rpc is None:
        raise ValueError("--deployment needs --rpc: the embedded chain ends with the demo")
    if deployment is not None and data is None:
        data = Path("bledger-data")
    backend = EmbeddedBackend() if rpc is None else RpcBackend(rpc, confirmations=confirmations_setting(confirmations))
    if rpc is not None:
        unfunded = [a.address for a in backend.funded_accounts(len(PARTIES)) if backend.w3.eth.get_balance(a.address) == 0]
        if unfunded:
            raise LedgerError(f"the demo needs {len(PARTIES)} funded dev accounts; {len(unfunded)} have no funds on "
                              f"{','.join(rpc)} (start anvil with --accounts 30)")
    result = run_demo(backend, console, data, revocation)
    if deployment is not None and result.deployment is not None:
        result.deployment.save(deployment)
        console.print(f"deployment written to {deployment}; passport documents in {data}")
        console.print(f"export a passport: bledger battery export ID --rpc {','.join(rpc or [])} --deployment {deployment} "
                      f"--data {data} --out DIR")
        for what, ident in result.batteries.items():
            console.print(f"  {ident:26} {what}")
    if batteries is not None:
        batteries.write_text("\n".join(result.claim_batteries) + "\n")
        console.print(f"the {len(result.claim_batteries):,} battery identifiers of claim #{result.claim_id} written to "
                      f"{batteries}")


@reports_errors
def deploy(
    rpc: RpcOpt,
    moe: Annotated[str, typer.Option(help="Ministry of Environment: its authority role and committee seat.")],
    motie: Annotated[str, typer.Option(help="MOTIE: its authority role and committee seat.")],
    molit: Annotated[str, typer.Option(help="MOLIT: its authority role and committee seat.")],
    key: KeyOpt = None,
    out: Annotated[Path, typer.Option(help="Where to write the deployment file.")] = Path("deployment.json"),
    threshold: Annotated[int, typer.Option(help="Signatures of ministries the committee needs.")] = 2,
    delay: Annotated[int, typer.Option(help="Seconds a rule change waits in the timelock.")] = DEFAULT_DELAY,
    confirmations: ConfirmationsOpt = None,
) -> None:
    """Deploy the suite to a JSON-RPC node. Governance goes to the ministries' committee (a THRESHOLD-of-3 Safe
    proposing to a timelock with DELAY); the deploying key keeps no role at all."""
    writable_path(out, "deployment file")
    authorities = {"moe": address(moe, "--moe"), "motie": address(motie, "--motie"), "molit": address(molit, "--molit")}
    backend = RpcBackend(rpc, confirmations=confirmations_setting(confirmations))
    sender = TxSender(backend.w3)
    KeyPolicy.chain_id = sender.chain_id
    deployer = signer(key)
    deployment = deploy_suite(backend.w3, sender, deployer, authorities, threshold, delay)
    deployment.save(out)
    for name, contract_address in deployment.contracts.items():
        console.print(f"{name:28} {contract_address}")
    console.print(f"governance: {threshold} of 3 ministries, delay {delay} s; deployer {deployer.address} holds "
                  "no role")
    console.print(f"deployment written to {out}")
