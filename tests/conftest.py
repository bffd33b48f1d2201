"""One behaviour suite, run against the embedded py-evm chain and a real anvil node.

The suite is deployed once per backend per session, with the standard parties registered; every test starts from
that state through a chain snapshot and is reverted afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

from chain_client.anvil import AnvilNode
from chain_client.backends import Backend, EmbeddedBackend, RpcBackend
from chain_client.certificates import LotApplication
from chain_client.evaluations import MeasurementReport, SignedReport, sign_report
from chain_client.governance import RuleChange
from chain_client.logistics import InspectionKind
from chain_client.passports import ModelSpec
from chain_client.suite import Deployment, Ledger, deploy
from chain_client.transactions import TxSender
from chain_client.vocabulary import BatteryCategory, BusinessRole, Feedstock, Material, identifier, short_string

DAY = 86_400
#: The committee's delay in the tests (the default is two days; time travel passes either).
COMMITTEE_DELAY = 3_600
PARTIES = ("deployer", "moe", "motie", "molit", "portal", "recycler", "recycler2", "processor", "cell_maker",
           "cell_maker2", "importer", "stranger", "ev_maker", "dismantler", "reuser", "transporter",
           "evaluator", "device", "inspector", "storage", "inspector2")
FACILITY = identifier("KR-RECYCLER-PLANT-1")
FACILITY2 = identifier("KR-RECYCLER2-PLANT-1")
MODEL_NAME = "KR:KCELL:NCM811-E-POUCH-78AH"
MODEL = identifier(MODEL_NAME)
MODEL_METALS = frozenset({Material.LITHIUM, Material.NICKEL, Material.COBALT})
#: Issuer prefixes the base state assigns (MOTIE): battery ids and model names must start with them.
PREFIXES = {"cell_maker": "KR:KCELL", "cell_maker2": "KR:OTHER", "reuser": "KR:REUSE"}


@dataclass
class World:
    """The deployed suite and its parties, as a test sees them."""

    backend: Backend
    sender: TxSender
    deployment: Deployment
    ledger: Ledger
    accounts: dict[str, LocalAccount]
    now: int  # chain time when the base state was made

    def __getattr__(self, name: str) -> Any:
        accounts = self.__dict__.get("accounts", {})
        if name in accounts:
            return accounts[name]
        raise AttributeError(name)

    def govern(self, change: RuleChange | ContractFunction) -> TxReceipt:
        """Takes ``change`` (or a governance-gated contract call) through the policy committee: MoE proposes, MOTIE
        approves (2 of 3), the Safe schedules it in the timelock, the delay passes (time travel), the timelock
        executes it."""
        a = self.accounts
        if not isinstance(change, RuleChange):
            change = RuleChange.call(change)
        return self.ledger.committee.enact([a["moe"], a["motie"]], change, self.backend.advance_time)

    def relayed(self) -> Ledger:
        return self.ledger.relayed(self.sender, self.accounts["portal"])

    def application(self, material: Material = Material.LITHIUM, grams: int = 100_000,
                    feedstock: Feedstock = Feedstock.POST_CONSUMER, facility: bytes = FACILITY) -> LotApplication:
        return LotApplication(material, feedstock, grams, short_string("Li2CO3"), facility,
                              self.now - 30 * DAY, self.now - DAY, b"\x11" * 32, b"\x22" * 32)

    def certified_lot(self, material: Material = Material.LITHIUM, grams: int = 100_000,
                      feedstock: Feedstock = Feedstock.POST_CONSUMER) -> int:
        lot_id = self.ledger.certificates.apply(self.accounts["recycler"], self.application(material, grams, feedstock))
        self.ledger.certificates.certify(self.accounts["moe"], lot_id)
        return lot_id

    def chain_time(self) -> int:
        return int(self.backend.w3.eth.get_block("latest")["timestamp"])

    def report(self, battery: bytes, soh_bps: int = 8_000, faults: int = 0, nonce: int | None = None,
               measured_at: int | None = None, deadline: int | None = None, device: LocalAccount | None = None,
               ) -> SignedReport:
        """A measurement report signed by the evaluator's registered device (or ``device``)."""
        device = device or self.accounts["device"]
        ev = self.ledger.evaluations
        now = self.chain_time()
        report = MeasurementReport(battery, soh_bps, 60_000, 1_200, 850, faults, measured_at or now - 60,
                                   b"\x5e" * 32, ev.nonce(device.address) if nonce is None else nonce,
                                   deadline or now + 3_600)
        return sign_report(device, report, self.sender.chain_id, ev.address)

    def evaluate(self, battery: bytes, soh_bps: int = 8_000) -> None:
        self.ledger.evaluations.submit_report(self.accounts["portal"], self.report(battery, soh_bps))

    def inspect(self, battery: bytes, kind: InspectionKind = InspectionKind.PRE_DISTRIBUTION, passed: bool = True,
                days: int = 30, body: str = "inspector") -> None:
        self.ledger.inspections.record(self.accounts[body], battery, kind, passed,
                                       self.chain_time() + days * DAY, b"\x1f" * 32)

    def lot_held_by_cell_maker(self, material: Material = Material.LITHIUM, grams: int = 100_000,
                               feedstock: Feedstock = Feedstock.POST_CONSUMER) -> int:
        lot_id = self.certified_lot(material, grams, feedstock)
        self.ledger.certificates.transfer(self.accounts["recycler"], lot_id, self.accounts["cell_maker"].address,
                                          grams, identifier(f"SHIP-{lot_id}"))
        return lot_id


def _base_state(backend: Backend) -> World:
    accounts = dict(zip(PARTIES, backend.funded_accounts(len(PARTIES)), strict=True))
    sender = TxSender(backend.w3)
    a = accounts
    deployment = deploy(backend.w3, sender, a["deployer"],
                        {"moe": a["moe"].address, "motie": a["motie"].address, "molit": a["molit"].address},
                        threshold=2, delay=COMMITTEE_DELAY)
    ledger = Ledger(backend.w3, deployment, sender)
    reg = ledger.registry
    reg.register(a["moe"], a["recycler"].address, [BusinessRole.RECYCLER])
    reg.register(a["moe"], a["recycler2"].address, [BusinessRole.RECYCLER])
    reg.register(a["motie"], a["processor"].address, [BusinessRole.MATERIAL_PROCESSOR])
    reg.register(a["motie"], a["cell_maker"].address, [BusinessRole.CELL_MAKER])
    reg.register(a["motie"], a["cell_maker2"].address, [BusinessRole.CELL_MAKER])
    reg.register(a["motie"], a["importer"].address, [BusinessRole.IMPORTER_VERIFIER])
    reg.register(a["molit"], a["ev_maker"].address, [BusinessRole.EV_MAKER])
    reg.register(a["moe"], a["dismantler"].address, [BusinessRole.COLLECTOR_DISMANTLER])
    reg.register(a["motie"], a["reuser"].address, [BusinessRole.REUSE_REMANUFACTURER])
    reg.register(a["moe"], a["transporter"].address, [BusinessRole.TRANSPORTER])
    reg.register(a["molit"], a["evaluator"].address, [BusinessRole.EVALUATOR])
    reg.register(a["motie"], a["inspector"].address, [BusinessRole.INSPECTION_BODY])
    reg.register(a["motie"], a["inspector2"].address, [BusinessRole.INSPECTION_BODY])
    reg.register(a["moe"], a["storage"].address, [BusinessRole.STORAGE_OPERATOR])
    ledger.evaluations.register_device(a["evaluator"], a["device"])
    for party, prefix in PREFIXES.items():
        ledger.passports.assign_prefix(a["motie"], prefix, a[party].address)
    ledger.passports.register_model(a["cell_maker"], MODEL_NAME,
                                    ModelSpec(BatteryCategory.EV, MODEL_METALS, 60_000, data_hash=b"\x66" * 32))
    now = int(backend.w3.eth.get_block("latest")["timestamp"])
    reg.register_facility(a["moe"], FACILITY, a["recycler"].address, now - 365 * DAY, now + 365 * DAY)
    reg.register_facility(a["moe"], FACILITY2, a["recycler2"].address, now - 365 * DAY, now + 365 * DAY)
    return World(backend, sender, deployment, ledger, accounts, now)


@pytest.fixture(scope="session")
def anvil_node() -> Iterator[AnvilNode]:
    with AnvilNode() as node:
        yield node


@pytest.fixture(scope="session", params=["embedded", "anvil"])
def base_world(request: pytest.FixtureRequest) -> World:
    backend: Backend
    if request.param == "embedded":
        backend = EmbeddedBackend()
    else:
        backend = RpcBackend(request.getfixturevalue("anvil_node").url)
        backend.name = "anvil"  # type: ignore[misc]
    return _base_state(backend)


@pytest.fixture
def world(base_world: World) -> Iterator[World]:
    snapshot = base_world.backend.snapshot()
    yield base_world
    base_world.backend.revert(snapshot)
    base_world.sender.nonces.reset()


from tests.vectors import proof_vectors  # noqa: E402,F401 - the verification test vectors, made once per session
