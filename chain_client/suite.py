"""Deploy the whole contract suite, wire its roles, and attach to a deployed suite through a deployment file.

Governance is the policy committee: a Safe multisig of the ministries proposes to a timelock, and the timelock holds
the registry's ``DEFAULT_ADMIN_ROLE``. The deployer wires the suite and sets the initial rules through that same
timelock while its delay is still zero (one batch, scheduled and executed at once, visible as timelock events); the
batch's last calls hand the proposer and canceller roles to the Safe, open the executor role, revoke every role of
the deployer and raise the delay. When :func:`deploy` returns, the deployer holds nothing anywhere.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.types import Nonce, Wei

from chain_client.build import load_artifact, safe_artifact
from chain_client.certificates import Certificates
from chain_client.claims import Claims
from chain_client.errors import LedgerError
from chain_client.evaluations import Evaluations
from chain_client.events import event_args
from chain_client.governance import Committee
from chain_client.logistics import Inspections, Logistics
from chain_client.passports import Passports
from chain_client.recycling import ANNEX_XII, Recycling
from chain_client.registry import Registry
from chain_client.relay import RelayedSubmitter
from chain_client.rules import DEFAULT_GRADING, DEFAULT_INSPECTION, EU_ARTICLE_8, TRANSPORT_MAX_SOC_BPS
from chain_client.trades import DEFAULT_TRADE_POLICY, Trades
from chain_client.transactions import Submitter, TxSender
from chain_client.vocabulary import AUTHORITY_ROLES, MINISTRIES

#: Contracts of the suite, in deployment order.
SUITE = (
    "BatteryLedgerForwarder",
    "ParticipantRegistry",
    "ProductionCertificates",
    "RecycledContentTargets",
    "BatteryPassports",
    "UsageAttestations",
    "PerformanceEvaluations",
    "SafetyInspections",
    "TransportStorage",
    "PolicyTimelock",
    # issue 14: fair trade in used batteries, Annex XII recycling efficiency
    "UsedBatteryTrades",
    "RecyclingEfficiency",
)
#: Deployment-file name of the ministries' Safe (its artifact is ``artifacts/safe/Safe.json``).
SAFE = "PolicyCommitteeSafe"

#: The committee's default delay before a scheduled rule change can be executed.
DEFAULT_DELAY = 2 * 86_400
ZERO_ADDRESS = "0x" + "00" * 20
ZERO32 = b"\x00" * 32
PROPOSER_ROLE = Web3.keccak(text="PROPOSER_ROLE")
CANCELLER_ROLE = Web3.keccak(text="CANCELLER_ROLE")
EXECUTOR_ROLE = Web3.keccak(text="EXECUTOR_ROLE")


@dataclass
class Deployment:
    """Where a suite lives. Written as JSON; Hardhat's deployment script writes and reads the same shape."""

    chain_id: int
    contracts: dict[str, str]
    governance: str
    block_number: int
    deployer: str = ""
    tool: str = "chain_client"
    extra: dict[str, Any] = field(default_factory=dict)
    #: ``{"safe", "timelock", "members", "threshold", "delay"}`` of the policy committee.
    committee: dict[str, Any] = field(default_factory=dict)
    #: Hash of block ``block_number``: the chain's fingerprint (a reset chain or another one has another hash).
    block_hash: str = ""

    def save(self, path: Path) -> None:
        data = {"chainId": self.chain_id, "contracts": self.contracts, "governance": self.governance,
                "blockNumber": self.block_number, "deployer": self.deployer, "tool": self.tool,
                "committee": self.committee, **self.extra}
        if self.block_hash:
            data["blockHash"] = self.block_hash
        path.write_text(json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> Deployment:
        try:
            data = json.loads(path.read_text())
            if not isinstance(data, dict) or not isinstance(data.get("contracts"), dict):
                raise ValueError("no \"contracts\" object")
            return cls(
                chain_id=int(data["chainId"]),
                contracts={k: Web3.to_checksum_address(v) for k, v in data["contracts"].items()},
                governance=Web3.to_checksum_address(data["governance"]),
                block_number=int(data.get("blockNumber", 0)),
                deployer=data.get("deployer", ""),
                tool=data.get("tool", ""),
                committee=dict(data.get("committee") or {}),
                block_hash=str(data.get("blockHash", "")),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise LedgerError(f"{path} is not a deployment file: {exc}") from exc

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def contract_at(w3: Web3, name: str, address: str) -> Contract:
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=load_artifact(name).abi)


def deploy_contract(w3: Web3, sender: TxSender, deployer: LocalAccount, abi: list[dict[str, Any]], bytecode: str,
                    *args: Any) -> Contract:
    """Deploys one contract from its ABI and creation bytecode and returns it."""
    call = w3.eth.contract(abi=abi, bytecode=bytecode).constructor(*args)
    gas = int(call.estimate_gas({"from": deployer.address}) * 1.2)
    tx = call.build_transaction({"from": deployer.address, "gas": gas, "gasPrice": Wei(sender.gas_price),
                                 "chainId": sender.chain_id, "nonce": Nonce(0)})
    address = sender.send(deployer, tx)["contractAddress"]
    if address is None:
        raise LedgerError("the deployment transaction created no contract")
    return w3.eth.contract(address=address, abi=abi)


def _deploy(w3: Web3, sender: TxSender, deployer: LocalAccount, name: str, *args: Any) -> Contract:
    artifact = load_artifact(name)
    return deploy_contract(w3, sender, deployer, artifact.abi, artifact.bytecode, *args)


def _deploy_safe(w3: Web3, sender: TxSender, deployer: LocalAccount, members: Sequence[str],
                 threshold: int) -> Contract:
    """A Safe 1.4.1 proxy owned by ``members`` with ``threshold`` signatures required (no modules, no guard)."""
    singleton_art, factory_art = safe_artifact("Safe"), safe_artifact("SafeProxyFactory")
    singleton = deploy_contract(w3, sender, deployer, singleton_art.abi, singleton_art.bytecode)
    factory = deploy_contract(w3, sender, deployer, factory_art.abi, factory_art.bytecode)
    setup = singleton.encode_abi("setup", [members, threshold, ZERO_ADDRESS, b"", ZERO_ADDRESS, ZERO_ADDRESS, 0,
                                           ZERO_ADDRESS])
    receipt = sender.submit(deployer, factory.functions.createProxyWithNonce(singleton.address, setup, 0))
    proxy = event_args(factory, "ProxyCreation", receipt)["proxy"]
    return w3.eth.contract(address=proxy, abi=singleton_art.abi)


def deploy(
    w3: Web3,
    sender: TxSender,
    deployer: LocalAccount,
    authorities: dict[str, str],
    threshold: int = 2,
    delay: int = DEFAULT_DELAY,
) -> Deployment:
    """Deploys the suite from ``deployer``'s account. ``authorities`` (``{"moe": address, "motie": ...,
    "molit": ...}``, all three) are granted their roles and are the members of the policy committee's Safe, which
    needs ``threshold`` of their signatures; rule changes then wait ``delay`` seconds in the timelock. The initial
    wiring and rules go through the timelock in one batch that ends by removing the deployer's roles."""
    missing = sorted(set(MINISTRIES) - set(authorities))
    if missing:
        raise LedgerError(f"the committee needs every ministry: missing {', '.join(missing)}")
    members = [Web3.to_checksum_address(authorities[m]) for m in MINISTRIES]
    if len(set(members)) != len(members):
        raise LedgerError("each ministry needs its own address")
    if deployer.address in members:
        raise LedgerError("the deployer cannot be a ministry: it keeps no power after deployment")
    if not 1 <= threshold <= len(members):
        raise LedgerError(f"threshold must be between 1 and {len(members)}, not {threshold}")
    if delay < 0:
        raise LedgerError("the delay cannot be negative")
    start = w3.eth.block_number
    forwarder = _deploy(w3, sender, deployer, "BatteryLedgerForwarder")
    safe = _deploy_safe(w3, sender, deployer, members, threshold)
    timelock = _deploy(w3, sender, deployer, "PolicyTimelock", 0, [deployer.address], [deployer.address],
                       ZERO_ADDRESS)
    registry = _deploy(w3, sender, deployer, "ParticipantRegistry", delay, timelock.address, forwarder.address)
    certificates = _deploy(w3, sender, deployer, "ProductionCertificates", registry.address, forwarder.address)
    targets = _deploy(w3, sender, deployer, "RecycledContentTargets", registry.address, forwarder.address)
    passports = _deploy(w3, sender, deployer, "BatteryPassports", registry.address, certificates.address,
                        forwarder.address)
    usage = _deploy(w3, sender, deployer, "UsageAttestations", registry.address, certificates.address,
                    targets.address, passports.address, forwarder.address)
    evaluations = _deploy(w3, sender, deployer, "PerformanceEvaluations", registry.address, passports.address,
                          forwarder.address, DEFAULT_GRADING.as_tuple())
    inspections = _deploy(w3, sender, deployer, "SafetyInspections", registry.address, passports.address,
                          forwarder.address, DEFAULT_INSPECTION.as_tuple())
    logistics = _deploy(w3, sender, deployer, "TransportStorage", registry.address, passports.address,
                        forwarder.address, TRANSPORT_MAX_SOC_BPS)
    # --- issue 14: used-battery trades and Annex XII recycling efficiency (their targets set in the batch below) ---
    trades = _deploy(w3, sender, deployer, "UsedBatteryTrades", registry.address, passports.address,
                     evaluations.address, inspections.address, forwarder.address, DEFAULT_TRADE_POLICY.as_tuple())
    recycling = _deploy(w3, sender, deployer, "RecyclingEfficiency", registry.address, passports.address,
                        certificates.address, forwarder.address)
    # --- end issue 14 ---
    calls: list[tuple[Contract, str, list[Any]]] = [
        (registry, "grantRole", [AUTHORITY_ROLES[m], authorities[m]]) for m in MINISTRIES]
    calls += [(certificates, "setConsumer", [usage.address, True]),
              (passports, "setSafetyContracts", [evaluations.address, inspections.address])]
    calls += [(targets, "setTargets", [m.year, int(m.effective_from.timestamp()), m.as_array()]) for m in EU_ARTICLE_8]
    calls += [(recycling, "setTargets", [m.year, m.as_tuple()]) for m in ANNEX_XII]  # issue 14
    calls += [(timelock, "grantRole", [PROPOSER_ROLE, safe.address]),
              (timelock, "grantRole", [CANCELLER_ROLE, safe.address]),
              (timelock, "grantRole", [EXECUTOR_ROLE, ZERO_ADDRESS]),
              (timelock, "revokeRole", [PROPOSER_ROLE, deployer.address]),
              (timelock, "revokeRole", [CANCELLER_ROLE, deployer.address]),
              (timelock, "revokeRole", [EXECUTOR_ROLE, deployer.address]),
              (timelock, "updateDelay", [delay])]
    batch = ([c.address for c, _, _ in calls], [0] * len(calls), [c.encode_abi(fn, args) for c, fn, args in calls],
             ZERO32, Web3.keccak(text="battery-ledger deployment"))
    sender.submit(deployer, timelock.functions.scheduleBatch(*batch, 0))
    sender.submit(deployer, timelock.functions.executeBatch(*batch))
    contracts = {name: str(c.address) for name, c in zip(
        SUITE, (forwarder, registry, certificates, targets, passports, usage, evaluations, inspections, logistics,
                timelock, trades, recycling), strict=True)}
    contracts[SAFE] = str(safe.address)
    committee = {"safe": str(safe.address), "timelock": str(timelock.address), "members": members,
                 "threshold": threshold, "delay": delay}
    block_hash = "0x" + bytes(w3.eth.get_block(start + 1)["hash"]).hex()
    return Deployment(chain_id=sender.chain_id, contracts=contracts, governance=str(timelock.address),
                      block_number=start + 1, deployer=deployer.address, committee=committee, block_hash=block_hash)


class Ledger:
    """A deployed suite seen through typed clients, one per contract: ``registry``, ``certificates``, ``claims``,
    ``passports``, ``evaluations``, ``inspections``, ``logistics``, ``trades``, ``recycling``, and the policy
    ``committee``."""

    def __init__(self, w3: Web3, deployment: Deployment, submitter: Submitter) -> None:
        if w3.eth.chain_id != deployment.chain_id:
            raise LedgerError(f"deployment is for chain {deployment.chain_id}, node is chain {w3.eth.chain_id}")
        self.w3 = w3
        self.deployment = deployment
        self.submitter = submitter
        missing = [name for name in (*SUITE, SAFE) if name not in deployment.contracts]
        if missing:
            raise LedgerError(f"the deployment file names no {', '.join(missing)}: it predates the policy committee "
                              "or is damaged; redeploy with `bledger deploy`")
        c = {name: contract_at(w3, name, deployment.contracts[name]) for name in SUITE}
        self.forwarder = c["BatteryLedgerForwarder"]
        self.registry = Registry(c["ParticipantRegistry"], submitter)
        self.certificates = Certificates(c["ProductionCertificates"], submitter)
        self.claims = Claims(c["UsageAttestations"], c["RecycledContentTargets"], submitter)
        self.passports = Passports(c["BatteryPassports"], submitter)
        self.evaluations = Evaluations(c["PerformanceEvaluations"], submitter)
        self.inspections = Inspections(c["SafetyInspections"], submitter)
        self.logistics = Logistics(c["TransportStorage"], submitter)
        self.trades = Trades(c["UsedBatteryTrades"], submitter)
        self.recycling = Recycling(c["RecyclingEfficiency"], submitter)
        safe = w3.eth.contract(address=Web3.to_checksum_address(deployment.contracts[SAFE]),
                               abi=safe_artifact("Safe").abi)
        self.committee = Committee(w3, safe, c["PolicyTimelock"], submitter)

    def relayed(self, sender: TxSender, relayer: LocalAccount) -> Ledger:
        """The same suite, with every write relayed through the forwarder by ``relayer``."""
        return Ledger(self.w3, self.deployment, RelayedSubmitter(sender, relayer, self.forwarder))
