"""Deploy the whole contract suite, wire its roles, and attach to a deployed suite through a deployment file."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.types import Nonce, Wei

from chain_client.build import load_artifact
from chain_client.certificates import Certificates
from chain_client.claims import Claims
from chain_client.errors import LedgerError
from chain_client.evaluations import Evaluations
from chain_client.logistics import Inspections, Logistics
from chain_client.passports import Passports
from chain_client.registry import Registry
from chain_client.relay import RelayedSubmitter
from chain_client.rules import DEFAULT_GRADING, DEFAULT_INSPECTION, EU_ARTICLE_8, TRANSPORT_MAX_SOC_BPS
from chain_client.transactions import Submitter, TxSender
from chain_client.vocabulary import AUTHORITY_ROLES

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
)


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

    def save(self, path: Path) -> None:
        data = {"chainId": self.chain_id, "contracts": self.contracts, "governance": self.governance,
                "blockNumber": self.block_number, "deployer": self.deployer, "tool": self.tool, **self.extra}
        path.write_text(json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> Deployment:
        try:
            data = json.loads(path.read_text())
            return cls(
                chain_id=int(data["chainId"]),
                contracts={k: Web3.to_checksum_address(v) for k, v in data["contracts"].items()},
                governance=Web3.to_checksum_address(data["governance"]),
                block_number=int(data.get("blockNumber", 0)),
                deployer=data.get("deployer", ""),
                tool=data.get("tool", ""),
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


def deploy(
    w3: Web3,
    sender: TxSender,
    governance: LocalAccount,
    authorities: dict[str, str] | None = None,
) -> Deployment:
    """Deploys the suite from ``governance``'s account, makes it the registry's governance, grants the authority
    roles (``{"moe": address, ...}``), authorises the usage contract as consumer and sets the EU targets."""
    start = w3.eth.block_number
    forwarder = _deploy(w3, sender, governance, "BatteryLedgerForwarder")
    registry = _deploy(w3, sender, governance, "ParticipantRegistry", governance.address, forwarder.address)
    certificates = _deploy(w3, sender, governance, "ProductionCertificates", registry.address, forwarder.address)
    targets = _deploy(w3, sender, governance, "RecycledContentTargets", registry.address, forwarder.address)
    passports = _deploy(w3, sender, governance, "BatteryPassports", registry.address, certificates.address,
                        forwarder.address)
    usage = _deploy(w3, sender, governance, "UsageAttestations", registry.address, certificates.address,
                    targets.address, passports.address, forwarder.address)
    evaluations = _deploy(w3, sender, governance, "PerformanceEvaluations", registry.address, passports.address,
                          forwarder.address, DEFAULT_GRADING.as_tuple())
    inspections = _deploy(w3, sender, governance, "SafetyInspections", registry.address, passports.address,
                          forwarder.address, DEFAULT_INSPECTION.as_tuple())
    logistics = _deploy(w3, sender, governance, "TransportStorage", registry.address, passports.address,
                        forwarder.address, TRANSPORT_MAX_SOC_BPS)
    for authority, address in (authorities or {}).items():
        role = AUTHORITY_ROLES[authority]
        sender.submit(governance, registry.functions.grantRole(role, Web3.to_checksum_address(address)))
    sender.submit(governance, certificates.functions.setConsumer(usage.address, True))
    sender.submit(governance, passports.functions.setSafetyContracts(evaluations.address, inspections.address))
    for milestone in EU_ARTICLE_8:
        sender.submit(governance, targets.functions.setTargets(
            milestone.year, int(milestone.effective_from.timestamp()), milestone.as_array()))
    contracts = {name: str(c.address) for name, c in zip(
        SUITE, (forwarder, registry, certificates, targets, passports, usage, evaluations, inspections, logistics),
        strict=True)}
    return Deployment(chain_id=sender.chain_id, contracts=contracts, governance=governance.address,
                      block_number=start + 1, deployer=governance.address)


class Ledger:
    """A deployed suite seen through typed clients, one per contract: ``registry``, ``certificates``, ``claims``,
    ``passports``, ``evaluations``, ``inspections``, ``logistics``."""

    def __init__(self, w3: Web3, deployment: Deployment, submitter: Submitter) -> None:
        if w3.eth.chain_id != deployment.chain_id:
            raise LedgerError(f"deployment is for chain {deployment.chain_id}, node is chain {w3.eth.chain_id}")
        self.w3 = w3
        self.deployment = deployment
        self.submitter = submitter
        c = {name: contract_at(w3, name, deployment.contracts[name]) for name in SUITE}
        self.forwarder = c["BatteryLedgerForwarder"]
        self.registry = Registry(c["ParticipantRegistry"], submitter)
        self.certificates = Certificates(c["ProductionCertificates"], submitter)
        self.claims = Claims(c["UsageAttestations"], c["RecycledContentTargets"], submitter)
        self.passports = Passports(c["BatteryPassports"], submitter)
        self.evaluations = Evaluations(c["PerformanceEvaluations"], submitter)
        self.inspections = Inspections(c["SafetyInspections"], submitter)
        self.logistics = Logistics(c["TransportStorage"], submitter)

    def relayed(self, sender: TxSender, relayer: LocalAccount) -> Ledger:
        """The same suite, with every write relayed through the forwarder by ``relayer``."""
        return Ledger(self.w3, self.deployment, RelayedSubmitter(sender, relayer, self.forwarder))
