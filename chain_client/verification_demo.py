"""A small certified supply chain on a node, as the source of proof bundles for tests, the benchmark and demos:
three certified lots (Li, pre-consumer Ni, Co) moved to a cell maker, a battery model, batteries registered anchored
in one batch (Merkle root), the first two of them materialised into their own records, and a usage claim over the
same root that MOTIE attested."""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from chain_client.backends import Backend
from chain_client.certificates import LotApplication
from chain_client.claims import Allocation, ClaimRequest
from chain_client.ledger_state import battery_key
from chain_client.merkle import MerkleTree
from chain_client.passports import ModelSpec
from chain_client.suite import Deployment, Ledger, deploy
from chain_client.transactions import TxSender
from chain_client.vocabulary import BatteryCategory, BusinessRole, CustodyModel, Feedstock, Material, identifier, \
    short_string

DAY = 86_400
KG = 1_000
PARTIES = ("deployer", "moe", "motie", "molit", "recycler", "cell_maker")
MODEL_NAME = "KR:KCELL:NCM811-E-POUCH-78AH"


@dataclass
class Scenario:
    ledger: Ledger
    deployment: Deployment
    accounts: dict[str, LocalAccount]
    batteries: list[str]
    claim_id: int
    lots: dict[Material, int]


def build_scenario(backend: Backend, batteries: int = 8) -> Scenario:
    w3 = backend.w3
    a = dict(zip(PARTIES, backend.funded_accounts(len(PARTIES)), strict=True))
    sender = TxSender(w3)
    deployment = deploy(w3, sender, a["deployer"], {m: a[m].address for m in ("moe", "motie", "molit")})
    ledger = Ledger(w3, deployment, sender)
    reg = ledger.registry
    reg.register(a["moe"], a["recycler"].address, [BusinessRole.RECYCLER])
    reg.register(a["motie"], a["cell_maker"].address, [BusinessRole.CELL_MAKER])
    ledger.passports.assign_prefix(a["motie"], "KR:KCELL", a["cell_maker"].address)
    now = int(w3.eth.get_block("latest")["timestamp"])
    plant = identifier("KR-HANBIT-GUMI-01")
    reg.register_facility(a["moe"], plant, a["recycler"].address, now - 400 * DAY, now + 400 * DAY)
    lots: dict[Material, int] = {}
    for material, feedstock, grams in ((Material.LITHIUM, Feedstock.POST_CONSUMER, 60 * KG),
                                       (Material.NICKEL, Feedstock.PRE_CONSUMER, 400 * KG),
                                       (Material.COBALT, Feedstock.POST_CONSUMER, 200 * KG)):
        lot_id = ledger.certificates.apply(a["recycler"], LotApplication(
            material, feedstock, grams, short_string("X"), plant, now - 90 * DAY, now - DAY, b"\x11" * 32,
            b"\x22" * 32))
        ledger.certificates.certify(a["moe"], lot_id)
        ledger.certificates.transfer(a["recycler"], lot_id, a["cell_maker"].address, grams,
                                     identifier(f"SHIP-{lot_id}"))
        lots[material] = lot_id
    model_id = ledger.passports.register_model(a["cell_maker"], MODEL_NAME, ModelSpec(
        BatteryCategory.EV, frozenset({Material.LITHIUM, Material.NICKEL, Material.COBALT}), 60_000,
        data_hash=b"\x66" * 32))
    serials = [f"KR:KCELL:EV:{n:07d}" for n in range(1, batteries + 1)]
    tree = MerkleTree(battery_key(s) for s in serials)
    batch_id = ledger.passports.anchor_batch(a["cell_maker"], model_id, tree.root, len(serials), b"\x44" * 32)
    for serial in serials[:2]:
        ledger.passports.materialize(a["cell_maker"], batch_id, serial, tree.proof(battery_key(serial)))
    claim_id = ledger.claims.open(a["cell_maker"], ClaimRequest(
        battery_model=model_id, plant=identifier("KR-KCELL-OCHANG-02"), period_start=now - 180 * DAY,
        period_end=now - DAY, custody_model=CustodyModel.MASS_BALANCE,
        content_grams={Material.LITHIUM: 700 * KG, Material.NICKEL: 5_000 * KG, Material.COBALT: 1_000 * KG},
        allocations=[Allocation(lots[Material.LITHIUM], 60 * KG), Allocation(lots[Material.NICKEL], 400 * KG),
                     Allocation(lots[Material.COBALT], 200 * KG)],
        batteries_root=tree.root, evidence_hash=b"\x33" * 32))
    ledger.claims.attest(a["motie"], claim_id)
    return Scenario(ledger, deployment, a, serials, claim_id, lots)
