"""``bledger governance``: rule changes through the ministries' policy committee (Safe multisig -> timelock).

A proposal is a JSON file in ``--proposals DIR`` (default ``bledger-data/governance/``), named after the timelock
operation id; ministries pass it around (or share the folder) and refer to it by path or by an id prefix.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from web3 import Web3

from chain_client import rule_changes
from chain_client.cli.common import (
    DeploymentOpt,
    KeyOpt,
    RpcOpt,
    console,
    open_ledger,
    parse_time,
    reports_errors,
    signer,
)
from chain_client.cli.registry import parse_roles
from chain_client.governance import GovernanceError, OperationState, Proposal, RuleChange
from chain_client.rules import GradingPolicy, InspectionPolicy
from chain_client.suite import Ledger
from chain_client.vocabulary import MINISTRIES, BatteryCategory, CustodyModel, Material

app = typer.Typer(no_args_is_help=True)
propose = typer.Typer(no_args_is_help=True)
app.add_typer(propose, name="propose", help="A ministry proposes a rule change and signs it (nothing is sent yet).")

ProposalsOpt = Annotated[Path, typer.Option("--proposals", envvar="BLEDGER_PROPOSALS",
                                            help="Folder of the committee's proposal files.")]
DelayOpt = Annotated[int | None, typer.Option(help="Delay in seconds (default and minimum: the timelock's).")]
DEFAULT_DIR = Path("bledger-data/governance")


def _when(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _find(spec: str, proposals: Path) -> Path:
    """A proposal file: a path, or a (prefix of an) operation id in the proposals folder."""
    path = Path(spec)
    if path.is_file():
        return path
    key = spec.lower().removeprefix("0x")
    matches = sorted(p for p in proposals.glob("0x*.json") if p.stem[2:].startswith(key)) if key else []
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise GovernanceError(f"no proposal {spec!r} (neither a file nor an operation id in {proposals})")
    raise GovernanceError(f"{spec!r} matches {len(matches)} proposals: give more digits")


def _names(ledger: Ledger) -> dict[str, str]:
    """Member address -> ministry name (from the registry's authority roles)."""
    names = {}
    for member in ledger.committee.members():
        held = [m for m in MINISTRIES if ledger.registry.has_authority(m, member)]
        names[member] = "/".join(held) or "member"
    return names


def _signatures(ledger: Ledger, proposal: Proposal) -> str:
    names = _names(ledger)
    signers = ledger.committee.valid_signers(proposal)
    who = ", ".join(names.get(s, s) for s in signers) or "none"
    return f"{len(signers)} of {ledger.committee.threshold()} signatures ({who})"


def _propose(rpc: str | Sequence[str], deployment: Path, key: str | None, proposals: Path, delay: int | None,
             build: Callable[[Ledger], RuleChange]) -> None:
    ledger, _ = open_ledger(rpc, deployment)
    proposal = ledger.committee.propose(signer(key), build(ledger), delay)
    path = proposal.save(proposals)
    console.print(f"proposed: {proposal.change.description}")
    console.print(f"operation 0x{proposal.operation_id.hex()}, {_signatures(ledger, proposal)}, delay "
                  f"{proposal.delay} s; written to {path}")


@propose.command("soc-limit")
@reports_errors
def soc_limit(
    percent: Annotated[float, typer.Argument(help="Maximum state of charge at dispatch, %.")], rpc: RpcOpt,
    deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None, proposals: ProposalsOpt = DEFAULT_DIR,
    delay: DelayOpt = None,
) -> None:
    """The transport state-of-charge limit."""
    _propose(rpc, deployment, key, proposals, delay, lambda lg: rule_changes.soc_limit(lg, round(percent * 100)))


@propose.command("grading-policy")
@reports_errors
def grading_policy(
    rpc: RpcOpt,
    upper_above: Annotated[float, typer.Option(help="SOH % above which the grade is upper.")] = 70.0,
    middle_above: Annotated[float, typer.Option(help="SOH % above which the grade is middle.")] = 50.0,
    forcing_faults: Annotated[int, typer.Option(help="Bitmask of fault flags that force the lower grade.")]
    = GradingPolicy().forcing_faults,
    validity_days: Annotated[int, typer.Option(help="Days an evaluation allows removal.")] = 180,
    deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None, proposals: ProposalsOpt = DEFAULT_DIR,
    delay: DelayOpt = None,
) -> None:
    """A new version of the grading policy before removal."""
    policy = GradingPolicy(round(upper_above * 100), round(middle_above * 100), forcing_faults, validity_days * 86_400)
    _propose(rpc, deployment, key, proposals, delay, lambda lg: rule_changes.grading_policy(lg, policy))


def _shares(values: list[str]) -> dict[Material, int]:
    symbols = {m.symbol.lower(): m for m in Material}
    shares: dict[Material, int] = {}
    for value in values:
        symbol, _, percent = value.partition("=")
        if symbol.lower() not in symbols:
            raise ValueError(f"unknown metal in {value!r}: use {', '.join(m.symbol for m in Material)}")
        try:
            shares[symbols[symbol.lower()]] = round(float(percent) * 100)
        except ValueError:
            raise ValueError(f"{value!r} is not METAL=PERCENT") from None
    return shares


@propose.command("targets")
@reports_errors
def targets(
    year: int, effective_from: Annotated[str, typer.Option("--from", help="Date the minimums apply from.")],
    rpc: RpcOpt,
    share: Annotated[list[str], typer.Option(help="Minimum share, repeatable: Li=6, Co=16 ...")],
    deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None, proposals: ProposalsOpt = DEFAULT_DIR,
    delay: DelayOpt = None,
) -> None:
    """The EU minimum recycled-content shares of a milestone."""
    shares, start = _shares(share), parse_time(effective_from)
    _propose(rpc, deployment, key, proposals, delay, lambda lg: rule_changes.targets(lg, year, start, shares))


@propose.command("inspection-policy")
@reports_errors
def inspection_policy(
    rpc: RpcOpt,
    max_validity_days: Annotated[int, typer.Option(help="Longest validity of an inspection pass, days.")] = 365,
    retest_wait_days: Annotated[int, typer.Option(help="Days before another body may pass a failed battery.")] = 7,
    deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None, proposals: ProposalsOpt = DEFAULT_DIR,
    delay: DelayOpt = None,
) -> None:
    """The safety inspection policy."""
    policy = InspectionPolicy(max_validity_days * 86_400, retest_wait_days * 86_400)
    _propose(rpc, deployment, key, proposals, delay, lambda lg: rule_changes.inspection_policy(lg, policy))


@propose.command("scope")
@reports_errors
def scope(
    category: Annotated[str, typer.Argument(help="EV, INDUSTRIAL, LMT, STATIONARY, SLI or PORTABLE")],
    from_year: Annotated[int, typer.Argument(help="Milestone year from which Article 8 applies (0: never).")],
    rpc: RpcOpt, deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None,
    proposals: ProposalsOpt = DEFAULT_DIR, delay: DelayOpt = None,
) -> None:
    """Article 8 scope of a battery category."""
    try:
        cat = BatteryCategory[category.upper()]
    except KeyError:
        raise ValueError(f"unknown category {category!r}: use {', '.join(c.name for c in BatteryCategory)}") from None
    _propose(rpc, deployment, key, proposals, delay, lambda lg: rule_changes.scope(lg, cat, from_year))


@propose.command("custody-model")
@reports_errors
def custody_model(
    model: Annotated[str, typer.Argument(help="identity_preserved, segregated, controlled_blending, mass_balance or "
                                              "book_and_claim")],
    rpc: RpcOpt, counts: Annotated[bool, typer.Option("--counts/--does-not-count",
                                                      help="Whether claims under it count.")] = True,
    deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None, proposals: ProposalsOpt = DEFAULT_DIR,
    delay: DelayOpt = None,
) -> None:
    """Whether claims under a chain-of-custody model count towards the EU minimums."""
    try:
        cm = CustodyModel[model.upper()]
    except KeyError:
        raise ValueError(f"unknown custody model {model!r}: use "
                         f"{', '.join(c.name.lower() for c in CustodyModel)}") from None
    _propose(rpc, deployment, key, proposals, delay, lambda lg: rule_changes.custody_model_counts(lg, cm, counts))


@propose.command("consumer")
@reports_errors
def consumer(
    address: str, rpc: RpcOpt, remove: Annotated[bool, typer.Option(help="Deauthorise instead.")] = False,
    deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None, proposals: ProposalsOpt = DEFAULT_DIR,
    delay: DelayOpt = None,
) -> None:
    """A contract allowed to consume and release certified quantities."""
    _propose(rpc, deployment, key, proposals, delay, lambda lg: rule_changes.consumer(lg, address, not remove))


@propose.command("safety-contracts")
@reports_errors
def safety_contracts(
    evaluations: str, inspections: str, rpc: RpcOpt, deployment: DeploymentOpt = Path("deployment.json"),
    key: KeyOpt = None, proposals: ProposalsOpt = DEFAULT_DIR, delay: DelayOpt = None,
) -> None:
    """The evaluation and inspection contracts the passports consult."""
    _propose(rpc, deployment, key, proposals, delay,
             lambda lg: rule_changes.safety_contracts(lg, evaluations, inspections))


def _ministry(name: str) -> str:
    if name not in MINISTRIES:
        raise ValueError(f"unknown authority {name!r}: use {', '.join(MINISTRIES)}")
    return name


@propose.command("grant-authority")
@reports_errors
def grant_authority(
    authority: Annotated[str, typer.Argument(help="moe, motie or molit")], account: str, rpc: RpcOpt,
    deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None, proposals: ProposalsOpt = DEFAULT_DIR,
    delay: DelayOpt = None,
) -> None:
    """Grant a ministry's authority role in the registry."""
    name = _ministry(authority)
    _propose(rpc, deployment, key, proposals, delay, lambda lg: rule_changes.grant_authority(lg, name, account))


@propose.command("revoke-authority")
@reports_errors
def revoke_authority(
    authority: Annotated[str, typer.Argument(help="moe, motie or molit")], account: str, rpc: RpcOpt,
    deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None, proposals: ProposalsOpt = DEFAULT_DIR,
    delay: DelayOpt = None,
) -> None:
    """Revoke a ministry's authority role in the registry."""
    name = _ministry(authority)
    _propose(rpc, deployment, key, proposals, delay, lambda lg: rule_changes.revoke_authority(lg, name, account))


@propose.command("role-authority")
@reports_errors
def role_authority(
    role: str, authority: Annotated[str, typer.Argument(help="moe, motie or molit")], rpc: RpcOpt,
    deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None, proposals: ProposalsOpt = DEFAULT_DIR,
    delay: DelayOpt = None,
) -> None:
    """Which ministry administers a business role."""
    (business_role,), name = parse_roles([role]), _ministry(authority)
    _propose(rpc, deployment, key, proposals, delay,
             lambda lg: rule_changes.role_authority(lg, business_role, name))


@app.command()
@reports_errors
def approve(
    proposal: Annotated[str, typer.Argument(help="Proposal file, or its operation id (a prefix will do).")],
    rpc: RpcOpt, deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None,
    proposals: ProposalsOpt = DEFAULT_DIR,
) -> None:
    """Another ministry checks a proposal against the chain and signs it."""
    ledger, _ = open_ledger(rpc, deployment)
    path = _find(proposal, proposals)
    p = ledger.committee.approve(signer(key), Proposal.load(path))
    path.write_text(json.dumps(p.to_json(), indent=2) + "\n")
    console.print(f"approved: {p.change.description}; {_signatures(ledger, p)}")


@app.command()
@reports_errors
def execute(
    proposal: Annotated[str, typer.Argument(help="Proposal file, or its operation id (a prefix will do).")],
    rpc: RpcOpt, deployment: DeploymentOpt = Path("deployment.json"), key: KeyOpt = None,
    proposals: ProposalsOpt = DEFAULT_DIR,
) -> None:
    """With enough signatures, the Safe schedules the change in the timelock; once the delay has passed, the
    timelock makes it (run the command again then; any key may send either step)."""
    ledger, _ = open_ledger(rpc, deployment)
    p = Proposal.load(_find(proposal, proposals))
    committee = ledger.committee
    if committee.state(p.operation_id) == OperationState.UNSET:
        committee.schedule(signer(key), p)
        console.print(f"scheduled: {p.change.description}; executable from "
                      f"{_when(committee.ready_at(p.operation_id))} (run `bledger governance execute` again then)")
        return
    committee.execute(signer(key), p)
    console.print(f"executed: {p.change.description}")


@app.command()
@reports_errors
def status(
    rpc: RpcOpt, deployment: DeploymentOpt = Path("deployment.json"), proposals: ProposalsOpt = DEFAULT_DIR,
) -> None:
    """The committee, its proposals (signatures, state, ready time) and the operations pending in the timelock."""
    ledger, _ = open_ledger(rpc, deployment)
    c = ledger.committee
    names = _names(ledger)
    members = ", ".join(f"{names[m]} {m}" for m in c.members())
    console.print(f"committee: {c.threshold()} of {len(names)} ({members}); Safe {c.safe.address}")
    console.print(f"timelock {c.timelock.address}: delay {c.delay()} s; Safe nonce {c.safe_nonce()}")
    now = int(ledger.w3.eth.get_block("latest")["timestamp"])
    known: set[bytes] = set()
    for path in sorted(proposals.glob("0x*.json")) if proposals.is_dir() else []:
        p = Proposal.load(path)
        if Web3.to_checksum_address(p.safe) != c.safe.address:
            continue
        known.add(p.operation_id)
        state = c.state(p.operation_id)
        line = f"  0x{p.operation_id.hex()[:12]}  {p.change.description}: {state.name.lower()}"
        if state == OperationState.UNSET:
            stale = "" if p.safe_nonce == c.safe_nonce() else " (stale: propose again)"
            line += f", {_signatures(ledger, p)}{stale}"
        elif state in (OperationState.WAITING, OperationState.READY):
            ready = c.ready_at(p.operation_id)
            line += f", ready {_when(ready)}" + (f" (in {ready - now} s)" if ready > now else "")
        console.print(line)
    pending = [op for op in c.scheduled(ledger.deployment.block_number)
               if op.operation_id not in known and op.state in (OperationState.WAITING, OperationState.READY)]
    for op in pending:
        console.print(f"  0x{op.operation_id.hex()[:12]}  call to {op.target} (no proposal file here): "
                      f"{op.state.name.lower()}, ready {_when(op.ready_at)}")
    if not known and not pending:
        console.print("  no proposals and no pending operations")
