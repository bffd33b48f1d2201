"""The whole certification story on a fresh chain, with a readable report (``bledger demo``)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.table import Table

from chain_client import rule_changes
from chain_client.backends import Backend
from chain_client.battery_import import import_file
from chain_client.certificates import LotApplication
from chain_client.claims import Allocation, ClaimRequest, Compliance, MetalShare
from chain_client.errors import ContractRevert
from chain_client.evaluations import MeasurementReport, sign_report
from chain_client.governance import GovernanceError
from chain_client.logistics import InspectionKind
from chain_client.merkle import MerkleTree
from chain_client.model_data import example_sheet
from chain_client.passport_documents import (
    BatteryRecord,
    ContactRecord,
    PassportDocuments,
    SecondLifeRecord,
    vin_hash,
)
from chain_client.passports import HistoryEntry, battery_id
from chain_client.rules import EU_ARTICLE_8, FaultFlag
from chain_client.demo_market import MarketResult, run_market
from chain_client.price_store import PriceStore
from chain_client.suite import Deployment, Ledger, deploy
from chain_client.transactions import TxSender
from chain_client.vocabulary import (
    BatteryCategory,
    BatteryStatus,
    BusinessRole,
    CustodyModel,
    Feedstock,
    Material,
    document_hash,
    identifier,
    short_string,
)

DAY = 86_400
KG = 1_000  # grams

PARTIES = ("deployer", "moe", "motie", "molit", "portal", "recycler", "processor", "cell_maker", "importer",
           "ev_maker", "dismantler", "reuser", "evaluator", "device", "inspector", "transporter", "storage")
MODEL_NAME = "KR:KCELL:NCM811-E-POUCH-78AH"
ESS_MODEL_NAME = "KR:REPURPOSE:ESS-60"
BATCH_SIZE = 1_000
SUCCESSOR = "KR:REPURPOSE:ESS:0000001"

#: The demo's businesses, as their contact records say (registered by hash with the registry).
CONTACTS = {
    "recycler": ("Hanbit Recycling Co., Ltd.", "KR-BRN-513-81-00003", "39422", "55 Sandan-ro, Gumi"),
    "processor": ("Daehan Precursor Co., Ltd.", "KR-BRN-610-81-00004", "44997", "9 Onsan-ro, Ulsan"),
    "cell_maker": ("K-Cell Co., Ltd.", "KR-BRN-134-81-00001", "28125", "77 Gwahaksaneop 2-ro, Ochang-eup, Cheongju"),
    "importer": ("EU-Imp GmbH", "DE-HRB-123456", "10719", "Hindenburgstr. 10, Berlin"),
    "ev_maker": ("K-Motors Co., Ltd.", "KR-BRN-101-81-00005", "06772", "12 Heolleung-ro, Seoul"),
    "dismantler": ("Dasan Dismantling Co., Ltd.", "KR-BRN-312-81-00006", "31409", "3 Dunpo-ro, Asan"),
    "reuser": ("Hanbit Second Life Co., Ltd.", "KR-BRN-214-86-00002", "63309", "12 Cheomdan-ro, Jeju"),
    "transporter": ("Safe Cargo Logistics Co., Ltd.", "KR-BRN-220-81-00007", "17381", "40 Logistics-ro, Icheon"),
    "storage": ("Icheon Battery Storage Co., Ltd.", "KR-BRN-126-81-00008", "17381", "41 Logistics-ro, Icheon"),
}


def contact_of(name: str) -> ContactRecord:
    company, ident, postcode, street = CONTACTS[name]
    country = ident[:2]
    return ContactRecord(contactName=company, identifier=ident,
                         postalAddress={"addressCountry": country, "postalCode": postcode, "streetAddress": street})


@dataclass
class DemoResult:
    """What the demo did, for the report and for tests."""

    lots: dict[str, int] = field(default_factory=dict)
    claim_id: int = 0
    shares: dict[Material, MetalShare] = field(default_factory=dict)
    compliance_before: dict[int, Compliance] = field(default_factory=dict)
    compliance_after: dict[int, Compliance] = field(default_factory=dict)
    double_spend_error: ContractRevert | None = None
    revoked_lot: int = 0
    steps: list[str] = field(default_factory=list)
    deployment: Deployment | None = None
    batteries: dict[str, str] = field(default_factory=dict)  # what each demo battery shows -> its identifier
    claim_batteries: list[str] = field(default_factory=list)  # the identifiers the claim's batteries root covers
    market: MarketResult | None = None  # issue 14: trades, recycling declarations, statistics


def run_demo(backend: Backend, console: Console | None = None, data: Path | None = None,
             revoke: bool = True) -> DemoResult:
    """Registers the parties, certifies lots of Li, Ni and Co, moves parts of them, anchors a batch of batteries,
    opens and attests a usage claim (relayed: the cell maker signs, the portal pays), tries a double spend, takes one
    battery through its whole life (evaluation, inspection, transport, storage, second life, recycling), revokes a
    lot and reports. The off-chain passport documents (data sheets, contact and battery records, batch files, VIN
    salts) go to ``data`` (a temporary folder when None), so that the demo's batteries can be exported afterwards.
    ``revoke=False`` stops before the revocation (the claim stays untainted). Then (issue 14) used batteries are
    traded (their prices go to the price store in ``data``), the recycler declares two periods, and the statistics are
    printed."""
    if data is None:
        with tempfile.TemporaryDirectory() as tmp:
            return run_demo(backend, console, Path(tmp), revoke)
    with PassportDocuments(data) as docs:
        return _run(backend, console or Console(), docs, revoke)


def _run(backend: Backend, out: Console, docs: PassportDocuments, revoke: bool) -> DemoResult:
    result = DemoResult()

    def step(text: str) -> None:
        result.steps.append(text)
        out.print(f"[green]✓[/green] {text}")

    w3 = backend.w3
    accounts: dict[str, LocalAccount] = dict(zip(PARTIES, backend.funded_accounts(len(PARTIES)), strict=True))
    a = accounts
    sender = TxSender(w3)
    deployment = deploy(w3, sender, a["deployer"],
                        {"moe": a["moe"].address, "motie": a["motie"].address, "molit": a["molit"].address})
    ledger = Ledger(w3, deployment, sender)
    result.deployment = deployment
    step(f"deployed the suite on chain {deployment.chain_id} ({backend.name}); EU Article 8 targets set as data; "
         f"governance handed to the ministries' committee ({ledger.committee.threshold()} of 3 Safe -> timelock, "
         f"{ledger.committee.delay() // 3_600} h delay), the deployer keeps no role")
    relayed = ledger.relayed(sender, a["portal"])

    profiles = {name: contact_of(name).profile_hash() for name in CONTACTS}
    for name in CONTACTS:
        docs.publish_contact(a[name].address, contact_of(name))
    with sender.pipeline() as registrations:  # eleven acts sent at once, their receipts awaited together
        reg = ledger.registry.via(registrations)
        reg.register(a["moe"], a["recycler"].address, [BusinessRole.RECYCLER], profiles["recycler"])
        reg.register(a["motie"], a["processor"].address, [BusinessRole.MATERIAL_PROCESSOR], profiles["processor"])
        reg.register(a["motie"], a["cell_maker"].address, [BusinessRole.CELL_MAKER], profiles["cell_maker"])
        reg.register(a["motie"], a["importer"].address, [BusinessRole.IMPORTER_VERIFIER], profiles["importer"])
        reg.register(a["molit"], a["ev_maker"].address, [BusinessRole.EV_MAKER], profiles["ev_maker"])
        reg.register(a["moe"], a["dismantler"].address, [BusinessRole.COLLECTOR_DISMANTLER], profiles["dismantler"])
        reg.register(a["motie"], a["reuser"].address, [BusinessRole.REUSE_REMANUFACTURER], profiles["reuser"])
        reg.register(a["molit"], a["evaluator"].address, [BusinessRole.EVALUATOR], document_hash("accreditation: E"))
        reg.register(a["motie"], a["inspector"].address, [BusinessRole.INSPECTION_BODY], document_hash("accreditation"))
        reg.register(a["moe"], a["transporter"].address, [BusinessRole.TRANSPORTER], profiles["transporter"])
        reg.register(a["moe"], a["storage"].address, [BusinessRole.STORAGE_OPERATOR], profiles["storage"])
    reg = ledger.registry
    ledger.evaluations.register_device(a["evaluator"], a["device"])  # signs the device's proof of its key
    ledger.passports.assign_prefix(a["motie"], "KR:KCELL", a["cell_maker"].address)
    ledger.passports.assign_prefix(a["motie"], "KR:REPURPOSE", a["reuser"].address)
    now = int(w3.eth.get_block("latest")["timestamp"])
    plant = identifier("KR-HANBIT-GUMI-01")
    reg.register_facility(a["moe"], plant, a["recycler"].address, now - 400 * DAY, now + 700 * DAY,
                          document_hash("scope registration: hydrometallurgy line 1"))
    step("MoE, MOTIE and MOLIT registered a recycler, a material processor, a cell maker, an importer, an EV maker, "
         "a dismantler, a repurposing business, an evaluator (with its measuring device, which proved it holds its key), an inspection body, a "
         "transporter and a storage operator; MoE registered the recycler's plant (scope valid two years); MOTIE "
         "assigned the issuer prefixes KR:KCELL and KR:REPURPOSE")

    lots_spec = {
        "Li": (Material.LITHIUM, Feedstock.POST_CONSUMER, 90 * KG, "Li2CO3"),
        "Ni-pre": (Material.NICKEL, Feedstock.PRE_CONSUMER, 400 * KG, "NiSO4"),
        "Ni-post": (Material.NICKEL, Feedstock.POST_CONSUMER, 500 * KG, "NiSO4"),
        "Co": (Material.COBALT, Feedstock.POST_CONSUMER, 300 * KG, "CoSO4"),
    }
    certs = relayed.certificates  # the recycler and the processor sign, the portal relays
    lots = result.lots
    for label, (material, feedstock, grams, form) in lots_spec.items():
        lots[label] = certs.apply(a["recycler"], LotApplication(
            material, feedstock, grams, short_string(form), plant, now - 90 * DAY, now - DAY,
            source_root=document_hash(f"source batteries of lot {label}"),
            evidence_hash=document_hash(f"assay report of lot {label}")))
        ledger.certificates.certify(a["moe"], lots[label])
    step(f"the recycler applied (signed, relayed by the portal) and MoE certified {len(lots_spec)} lots: "
         "90 kg Li, 400 kg Ni (pre-consumer), 500 kg Ni (post-consumer), 300 kg Co")

    cm = a["cell_maker"].address
    certs.transfer(a["recycler"], lots["Li"], cm, 60 * KG, identifier("SHIP-2026-0001"))
    certs.transfer(a["recycler"], lots["Ni-pre"], a["processor"].address, 400 * KG, identifier("SHIP-2026-0002"))
    certs.transfer(a["processor"], lots["Ni-pre"], cm, 250 * KG, identifier("SHIP-2026-0003"))
    certs.transfer(a["recycler"], lots["Ni-post"], cm, 300 * KG, identifier("SHIP-2026-0004"))
    certs.transfer(a["recycler"], lots["Co"], cm, 200 * KG, identifier("SHIP-2026-0005"))
    step("certified quantities moved with shipments: 60 of 90 kg Li to the cell maker; 400 kg Ni to the "
         "processor, 250 kg of it on to the cell maker; 300 kg Ni and 200 kg Co to the cell maker")

    sheet = example_sheet("model-ev-ncm811")
    model_id = ledger.passports.register_model(a["cell_maker"], sheet.batteryModel, sheet.spec())
    docs.publish_model(sheet)
    serials = [f"KR:KCELL:EV:{n:07d}" for n in range(1, BATCH_SIZE + 1)]
    made = datetime.fromtimestamp(now - 200 * DAY, UTC).date()
    batch_file = docs.data / "demo-batteries.csv"
    batch_file.parent.mkdir(parents=True, exist_ok=True)
    batch_file.write_text("batteryPassportIdentifier,batteryModel,manufacturingDate,manufacturingPlace,warrantyUntil\n"
                          + "".join(f"{s},{sheet.batteryModel},{made},KR-KCELL-OCHANG-02,"
                                    f"{made.replace(year=made.year + 8)}\n" for s in serials))
    imported = import_file(batch_file, ledger.passports, a["cell_maker"], docs.index, docs.data / "batches",
                           BATCH_SIZE)
    batch_id = imported.batch_ids[0]
    tree = MerkleTree(battery_id(s) for s in serials)
    result.claim_batteries = serials
    assert ledger.passports.batch(batch_id).root == tree.root
    result.batteries["batch member never materialized"] = serials[-1]
    step(f"the cell maker registered model {MODEL_NAME!r} (its data sheet's hash on-chain) and imported batch "
         f"#{batch_id}: {len(serials):,} batteries in one Merkle root, their records kept off-chain")

    request = ClaimRequest(
        battery_model=model_id,
        plant=identifier("KR-KCELL-OCHANG-02"),
        period_start=now - 180 * DAY,
        period_end=now - DAY,
        custody_model=CustodyModel.MASS_BALANCE,
        content_grams={Material.LITHIUM: 700 * KG, Material.NICKEL: 5_000 * KG, Material.COBALT: 1_000 * KG},
        allocations=[
            Allocation(lots["Li"], 60 * KG),
            Allocation(lots["Ni-pre"], 250 * KG),
            Allocation(lots["Ni-post"], 300 * KG),
            Allocation(lots["Co"], 200 * KG),
        ],
        batteries_root=tree.root,
        evidence_hash=document_hash("bill of materials, K-Cell Ochang 2026 H1"),
    )
    claim_id = relayed.claims.open(a["cell_maker"], request)
    result.claim_id = claim_id
    ledger.claims.attest(a["motie"], claim_id)
    step(f"the cell maker opened usage claim #{claim_id} (4 allocations consumed atomically) and MOTIE attested it")
    result.shares = ledger.claims.shares(claim_id)
    result.compliance_before = {m.year: ledger.claims.compliance(claim_id, m.year) for m in EU_ARTICLE_8}

    try:
        ledger.claims.open(a["cell_maker"], request)
    except ContractRevert as exc:
        result.double_spend_error = exc
        step(f"a second claim on the same quantities was refused: [yellow]{exc}[/yellow]")
    else:
        raise AssertionError("the double spend went through")

    battery_life(ledger, a, docs, serials[0], tree, batch_id, claim_id, now, plant, step)
    result.batteries["original, repurposed"] = serials[0]
    result.batteries["repurposed successor, recycled"] = SUCCESSOR
    other_lives(ledger, a, docs, serials[1], serials[2], tree, batch_id)
    result.batteries["in service"] = serials[1]
    result.batteries["removed"] = serials[2]
    step(f"battery {serials[1]} is in service (salted VIN hash on-chain); {serials[2]} was evaluated and removed")
    committee_step(ledger, backend, a, step)

    if not revoke:
        result.compliance_after = result.compliance_before
        print_report(out, result)
    else:
        result.revoked_lot = lots["Co"]
        ledger.certificates.revoke(a["moe"], result.revoked_lot,
                                   document_hash("audit finding: cobalt lot mislabelled"))
        result.compliance_after = {m.year: ledger.claims.compliance(claim_id, m.year) for m in EU_ARTICLE_8}
        tainted, lot_id = ledger.claims.is_tainted(claim_id)
        step(f"MoE revoked cobalt lot #{result.revoked_lot}; claim #{claim_id} now reads tainted={tainted} "
             f"(lot #{lot_id})")
        print_report(out, result)
    # issue 14: fair trade in used batteries, Annex XII recycling efficiency, the statistics
    result.market = run_market(backend, ledger, a, model_id, plant, [battery_id(SUCCESSOR)],
                               PriceStore.in_data_dir(docs.data), docs.data, step, out)
    return result


def battery_life(ledger: Ledger, a: dict[str, LocalAccount], docs: PassportDocuments, serial: str, tree: MerkleTree,
                 batch_id: int, claim_id: int, now: int, plant: bytes, step: Callable[[str], None]) -> None:
    """One battery of the batch, from manufacture to recycling."""
    p, bid = ledger.passports, battery_id(serial)
    p.materialize(a["cell_maker"], batch_id, serial, tree.proof(bid))
    covered = ledger.claims.covers(claim_id, bid, tree.proof(bid))
    step(f"battery {serial} got its own record from the batch and proves with its leaf and a "
         f"{len(tree.proof(bid))}-hash proof that attested claim #{claim_id} covers it: {covered}")
    p.transfer(a["cell_maker"], bid, a["ev_maker"].address, document_hash("delivery note"))
    p.put_in_service(a["ev_maker"], bid, vin_hash("KMHK381GFPU000001", docs.new_vin_salt(bid)),
                     document_hash("vehicle registration"))
    p.transfer(a["ev_maker"], bid, a["dismantler"].address, document_hash("end-of-use handover"))
    safety_steps(ledger, a, bid, step)
    p.mark_removed(a["dismantler"], bid, document_hash("removal report"))
    chain_now = int(ledger.w3.eth.get_block("latest")["timestamp"])
    ledger.inspections.record(a["inspector"], bid, InspectionKind.PRE_DISTRIBUTION, True, chain_now + 90 * DAY,
                              document_hash("pre-distribution inspection report"))
    ledger.logistics.ship(a["transporter"], bid, a["dismantler"].address, a["storage"].address, 2_800, 9,
                          document_hash("consignment note"))
    site = identifier("KR-STORAGE-ICHEON-1")
    ledger.logistics.register_site(a["storage"], site, 500_000, document_hash("storage permit: 500 kWh"))
    ledger.logistics.intake(a["storage"], site, bid, 60_000)
    ledger.logistics.release(a["storage"], site, bid)
    step("after removal: pre-distribution inspection passed; shipped at 28 % state of charge (limit 30 %); taken "
         "into a 500 kWh storage site (60 kWh) and released")
    p.transfer(a["dismantler"], bid, a["reuser"].address, document_hash("sale record"))
    ess = example_sheet("model-ess-second-life")
    ess_model = p.register_model(a["reuser"], ess.batteryModel, ess.spec())
    docs.publish_model(ess)
    successor = battery_id(SUCCESSOR)
    converted = datetime.fromtimestamp(int(ledger.w3.eth.get_block("latest")["timestamp"]), UTC)
    second = SecondLifeRecord(
        predecessor=serial, successor=SUCCESSOR,
        record=BatteryRecord(manufacturingDate=converted, manufacturingPlace="KR-HANBIT2-JEJU-01",
                             warrantyUntil=converted.date().replace(year=converted.year + 5)),
        evidenceHash="0x" + document_hash("ESS conversion report").hex())
    docs.publish_second_life(successor, second)
    p.start_second_life(a["reuser"], bid, SUCCESSOR, BatteryStatus.REPURPOSED, second.evidence_hash(), ess_model)
    chain_now = int(ledger.w3.eth.get_block("latest")["timestamp"])
    ledger.inspections.record(a["inspector"], successor, InspectionKind.POST_DISTRIBUTION, True, chain_now + 90 * DAY,
                              document_hash("post-distribution inspection report"))
    p.record_installation(a["reuser"], successor, identifier("ESS site: Jeju wind farm 3"),
                          document_hash("installation record"))
    p.mark_waste(a["reuser"], successor, document_hash("end of second life"))
    p.transfer(a["reuser"], successor, a["recycler"].address, document_hash("waste transfer note"))
    lot_id = ledger.certificates.apply(a["recycler"], LotApplication(
        Material.LITHIUM, Feedstock.POST_CONSUMER, 2 * KG, short_string("Li2CO3"), plant, now - 60 * DAY, now - DAY,
        source_root=MerkleTree([successor]).root, evidence_hash=document_hash("assay of recycled ESS battery")))
    ledger.certificates.certify(a["moe"], lot_id)
    p.mark_recycled(a["recycler"], successor, lot_id, document_hash("recycling certificate"))
    steps = f"{life_steps(p.history(bid))} | new passport: {life_steps(p.history(successor))}"
    step(f"battery {serial} lived its life, one custody change at a time (the repurposed pack installed in an ESS "
         f"after a post-distribution inspection): {steps} (linked to lot #{lot_id})")


def other_lives(ledger: Ledger, a: dict[str, LocalAccount], docs: PassportDocuments, in_service: str, removed: str,
                tree: MerkleTree, batch_id: int) -> None:
    """A battery left in service and one evaluated and removed (and kept with the dismantler)."""
    p = ledger.passports
    for n, serial in enumerate((in_service, removed), start=2):
        bid = battery_id(serial)
        p.materialize(a["cell_maker"], batch_id, serial, tree.proof(bid))
        p.transfer(a["cell_maker"], bid, a["ev_maker"].address, document_hash(f"delivery note {n}"))
        p.put_in_service(a["ev_maker"], bid, vin_hash(f"KMHK381GFPU00000{n}", docs.new_vin_salt(bid)),
                         document_hash(f"vehicle registration {n}"))
    bid = battery_id(removed)
    p.transfer(a["ev_maker"], bid, a["dismantler"].address, document_hash("end-of-use handover 3"))
    ev = ledger.evaluations
    chain_now = int(ledger.w3.eth.get_block("latest")["timestamp"])
    report = MeasurementReport(bid, 6_230, 47_900, 3_900, 2_410, int(FaultFlag["CELL_VOLTAGE_DEVIATION"]),
                               chain_now - 900, document_hash("raw test log 3"), ev.nonce(a["device"].address),
                               chain_now + 3_600)
    ev.submit_report(a["portal"], sign_report(a["device"], report, ledger.deployment.chain_id, ev.address))
    p.mark_removed(a["dismantler"], bid, document_hash("removal report 3"))


def committee_step(ledger: Ledger, backend: Backend, a: dict[str, LocalAccount], step: Callable[[str], None]) -> None:
    """A rule change through the policy committee: MoE proposes, MOTIE co-signs, the Safe schedules it in the
    timelock, and after the delay (time travel on a dev chain) anyone executes it."""
    c = ledger.committee
    before = ledger.logistics.max_soc_bps()
    proposal = c.propose(a["moe"], rule_changes.soc_limit(ledger, 2_500))
    c.approve(a["motie"], proposal)
    c.schedule(a["moe"], proposal)
    try:
        c.execute(a["moe"], proposal)
    except GovernanceError:
        early = "refused before the delay"
    else:
        raise AssertionError("the timelock executed before its delay")
    try:
        backend.advance_time(proposal.delay + 1)
    except RuntimeError:  # a node without time travel (geth, Besu): the change waits out its delay for real
        step(f"policy committee: MoE proposed lowering the transport SOC limit from {before / 100:g} % to 25 %, MOTIE "
             f"co-signed (2 of 3), the Safe scheduled it in the timelock; {early}; this node cannot travel in time: "
             f"run `bledger governance execute` after {proposal.delay // 3_600} h")
        return
    c.execute(a["storage"], proposal)  # anyone may execute a ready operation
    step(f"policy committee: MoE proposed lowering the transport SOC limit from {before / 100:g} % to 25 %, MOTIE "
         f"co-signed (2 of 3), the Safe scheduled it in the timelock; {early}, executed after "
         f"{proposal.delay // 3_600} h (chain time travelled): limit now {ledger.logistics.max_soc_bps() / 100:g} %")


def safety_steps(ledger: Ledger, a: dict[str, LocalAccount], bid: bytes, step: Callable[[str], None]) -> None:
    """Evaluation before removal: the device signs, the portal relays, the grade is computed on-chain."""
    ev = ledger.evaluations
    chain_now = int(ledger.w3.eth.get_block("latest")["timestamp"])
    report = MeasurementReport(bid, 7_420, 57_900, 1_850, 1_240, 0, chain_now - 600, document_hash("raw test log"),
                               ev.nonce(a["device"].address), chain_now + 3_600)
    ev.submit_report(a["portal"], sign_report(a["device"], report, ledger.deployment.chain_id, ev.address))
    e = ev.evaluation(bid)
    step(f"evaluation before removal: the device signed SOH 74.20 %, the portal relayed it; grade computed on-chain: "
         f"{e.grade.name.lower()} (policy v{e.policy_version}: > 70 % upper, > 50 % middle)")


def life_steps(history: list[HistoryEntry]) -> str:
    """``Original -> handover -> InService ...``: a status change shows its status, a custody change 'handover', any
    other recorded act (an installation) 'update'."""
    labels: list[str] = []
    previous, operator = None, None
    for h in history:
        labels.append(h.status.label if h.status != previous else "handover" if h.operator != operator else "update")
        previous, operator = h.status, h.operator
    return " -> ".join(labels)


def _pct(bps: int) -> str:
    return f"{bps / 100:.2f} %"


def print_report(out: Console, result: DemoResult) -> None:
    table = Table(title=f"Usage claim #{result.claim_id}: recycled content per metal (computed on-chain)")
    for col in ("metal", "in batteries", "recycled", "pre-cons.", "post-cons.", "share", "EU 2031", "EU 2036"):
        table.add_column(col, justify="right")
    c31, c36 = result.compliance_before[2031], result.compliance_before[2036]
    for material, s in result.shares.items():
        def verdict(c: Compliance) -> str:
            minimum = c.minimum_bps[material]
            if minimum == 0:
                return "-"
            mark = "[green]meets[/green]" if s.share_bps >= minimum else "[red]below[/red]"
            return f"{minimum / 100:g} % {mark}"
        table.add_row(
            material.symbol,
            f"{s.content_grams / KG:,.0f} kg",
            f"{(s.pre_consumer_grams + s.post_consumer_grams) / KG:,.0f} kg",
            _pct(s.pre_consumer_bps), _pct(s.post_consumer_bps), _pct(s.share_bps), verdict(c31), verdict(c36),
        )
    out.print(table)
    for year in sorted(result.compliance_before):
        before, after = result.compliance_before[year], result.compliance_after[year]
        out.print(f"EU {year} minimums: attested claim meets them: [bold]{before.meets}[/bold]; after the "
                  f"revocation of lot #{result.revoked_lot}: tainted={after.tainted}, meets=[bold]{after.meets}[/bold]")
