"""Battery Pass 1.2.0 passports: every demo battery's export validates against the seven schemas, carries the
recycled content of its covering claim, keeps restricted data out of the public tier; the fixed bugs stay fixed.

The demo runs once on its own anvil node (so that the CLI can export its batteries afterwards, as a user would)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from rich.console import Console
from typer.testing import CliRunner

from chain_client import batterypass
from chain_client.anvil import AnvilNode
from chain_client.backends import RpcBackend
from chain_client.battery_pass import BatteryPassExport, export_battery_pass
from chain_client.cli import app
from chain_client.demo import DemoResult, run_demo
from chain_client.errors import LedgerError
from chain_client.keys import dev_accounts
from chain_client.merkle import keccak
from chain_client.model_data import EXAMPLES, parse_model_data
from chain_client.passport_documents import BatteryRecord, PassportDocuments, vin_hash
from chain_client.passport_export import export_passport
from chain_client.passport_ids import from_urn, to_urn
from chain_client.passport_page import passport_url, render_passport_page
from chain_client.passports import ModelSpec, battery_id
from chain_client.suite import Ledger
from chain_client.transactions import TxSender
from chain_client.vocabulary import BatteryCategory, BatteryStatus, Material, identifier

runner = CliRunner()
ORIGINAL, SUCCESSOR, IN_SERVICE, REMOVED, UNMATERIALIZED = (
    "original, repurposed", "repurposed successor, recycled", "in service", "removed",
    "batch member never materialized")


@dataclass
class Demo:
    node: AnvilNode
    backend: RpcBackend
    sender: TxSender
    result: DemoResult
    ledger: Ledger
    docs: PassportDocuments
    data: Path
    deployment: Path
    exports: dict[str, BatteryPassExport]

    def ident(self, what: str) -> str:
        return self.result.batteries[what]

    def cli(self, *args: str) -> str:
        result = runner.invoke(app, [*args, "--rpc", self.node.url, "--deployment", str(self.deployment),
                                     "--data", str(self.data)])
        assert result.exit_code == 0, result.output
        return result.output


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    tmp = tmp_path_factory.mktemp("battery-pass")
    with AnvilNode() as node:
        backend = RpcBackend(node.url)
        # stopped before the revocation, so the claim still covers its batteries (test_tainted_claim revokes)
        result = run_demo(backend, Console(file=open("/dev/null", "w")), tmp / "data", revoke=False)  # noqa: SIM115
        assert result.deployment is not None
        deployment = tmp / "deployment.json"
        result.deployment.save(deployment)
        sender = TxSender(backend.w3)
        ledger = Ledger(backend.w3, result.deployment, sender)
        with PassportDocuments(tmp / "data") as docs:
            exports = {what: export_battery_pass(ledger, docs, ident) for what, ident in result.batteries.items()}
            yield Demo(node, backend, sender, result, ledger, docs, tmp / "data", deployment, exports)


@pytest.fixture
def changed(demo: Demo) -> Iterator[Demo]:
    """The demo's chain for a test that changes it: reverted afterwards."""
    snapshot = demo.backend.snapshot()
    yield demo
    demo.backend.revert(snapshot)
    demo.sender.nonces.reset()


def test_the_demo_has_every_kind_of_battery(demo: Demo) -> None:
    assert set(demo.result.batteries) == {ORIGINAL, SUCCESSOR, IN_SERVICE, REMOVED, UNMATERIALIZED}
    p = demo.ledger.passports
    status = {what: p.battery(battery_id(i)).status for what, i in demo.result.batteries.items()}
    assert status == {ORIGINAL: BatteryStatus.REPURPOSED, SUCCESSOR: BatteryStatus.RECYCLED,
                      IN_SERVICE: BatteryStatus.IN_SERVICE, REMOVED: BatteryStatus.REMOVED,
                      UNMATERIALIZED: BatteryStatus.NONE}


def test_every_demo_battery_validates_against_all_seven_schemas(demo: Demo) -> None:
    for what, passport in demo.exports.items():
        assert set(passport.groups) == set(batterypass.GROUPS)
        for tier in ("authority", "legitimateInterest", "public"):
            assert passport.schema_errors(tier) == [], f"{what}, {tier}"
        for group, value in passport.groups.items():  # and against the untouched schema files, independently
            assert batterypass.validate(group, value) == [], f"{what}: {group}"


def test_cli_export_writes_one_file_per_group_named_after_its_schema(demo: Demo, tmp_path: Path) -> None:
    ident = demo.ident(REMOVED)
    out = demo.cli("battery", "export", ident, "--out", str(tmp_path / "p"))
    assert "every group validates" in " ".join(out.split())
    files = {f.name for f in (tmp_path / "p").iterdir()}
    assert files == {f"{stem}.json" for stem in batterypass.GROUPS.values()} | {"BatteryLedger.json"}
    assert "CarbonFootprintForBatteries.json" in files
    for group, stem in batterypass.GROUPS.items():
        assert batterypass.validate(group, json.loads((tmp_path / "p" / f"{stem}.json").read_text())) == []
    missing = runner.invoke(app, ["battery", "export", "KR:KCELL:EV:9999999", "--out", str(tmp_path / "q"),
                                  "--rpc", demo.node.url, "--deployment", str(demo.deployment),
                                  "--data", str(demo.data)])
    assert missing.exit_code == 1
    assert "KR:KCELL:EV:9999999 is not registered: it has no record on-chain and is in no batch" in " ".join(
        missing.output.split())
    assert not (tmp_path / "q").exists()


def test_public_recycled_content_equals_claim_verify(demo: Demo, tmp_path: Path) -> None:
    claim_id = demo.result.claim_id
    out = runner.invoke(app, ["claim", "verify", str(claim_id), "--rpc", demo.node.url, "--deployment",
                              str(demo.deployment)]).output
    verified = {m: float(v) for m, v in re.findall(r"(Li|Ni|Co|Mn|Cu|Pb)\s+│.*?│.*?│.*?│\s+([\d.]+) %", out)}
    assert verified == {"Li": 8.57, "Ni": 11.0, "Co": 20.0}
    names = {"Lithium": "Li", "Nickel": "Ni", "Cobalt": "Co", "Lead": "Pb"}
    shares = demo.ledger.claims.shares(claim_id)
    for what in (ORIGINAL, SUCCESSOR, IN_SERVICE, REMOVED, UNMATERIALIZED):  # all of the batch the claim covers
        public = demo.exports[what].view("public")
        assert public["BatteryLedger"]["recycledContentClaim"]["claimId"] == claim_id
        content = {names[r["recycledMaterial"]]: r for r in public["Circularity"]["recycledContent"]}
        assert set(content) == set(verified)
        for symbol, row in content.items():
            assert round(row["preConsumerShare"] + row["postConsumerShare"], 2) == verified[symbol], what
            share = next(s for m, s in shares.items() if m.symbol == symbol)
            assert (row["preConsumerShare"], row["postConsumerShare"]) == (
                share.pre_consumer_bps / 100, share.post_consumer_bps / 100)
    # the CLI's public files say the same
    demo.cli("battery", "export", demo.ident(IN_SERVICE), "--out", str(tmp_path / "pub"), "--tier", "public")
    circularity = json.loads((tmp_path / "pub" / "Circularity.json").read_text())
    assert {r["recycledMaterial"]: r["postConsumerShare"] for r in circularity["recycledContent"]} == {
        "Lithium": 8.57, "Nickel": 6.0, "Cobalt": 20.0}


def test_article8_result_is_the_chains(demo: Demo) -> None:
    claim = demo.exports[IN_SERVICE].view("public")["BatteryLedger"]["recycledContentClaim"]
    assert claim["tainted"] is False and claim["coversOnChain"] is True
    for result in claim["article8"]:
        chain = demo.ledger.claims.compliance(demo.result.claim_id, result["year"])
        assert (result["inScope"], result["custodyModelCounts"]) == (chain.in_scope, chain.custody_counts)
        assert result["result"] == ("meets" if chain.meets else "below")
        assert (result["attested"], result["tainted"]) == (chain.attested, chain.tainted)
    assert [r["result"] for r in claim["article8"]] == ["meets", "below"]  # as `bledger claim verify` says
    assert "article8Exemption" not in demo.exports[IN_SERVICE].view("public")["BatteryLedger"]
    successor = demo.exports[SUCCESSOR].view("public")["BatteryLedger"]
    assert successor["article8Exemption"] == "Art. 8(4): placed on the market before being repurposed"


def test_article8_out_of_scope_model_reads_not_in_scope() -> None:
    from chain_client.battery_pass import article8_result
    from chain_client.claims import Compliance

    shares = {Material.LITHIUM: None}
    base = dict(year=2031, attested=True, tainted=False, share_bps={}, minimum_bps={Material.LITHIUM: 600})
    assert article8_result(Compliance(in_scope=False, custody_counts=True, meets=False, **base), shares)[  # type: ignore[arg-type]
        "result"] == "notInScope"
    assert article8_result(Compliance(in_scope=True, custody_counts=False, meets=False, **base), shares)[  # type: ignore[arg-type]
        "result"] == "custodyModelDoesNotCount"
    assert article8_result(Compliance(in_scope=True, custody_counts=True, meets=True, **base), shares)[  # type: ignore[arg-type]
        "result"] == "meets"


def test_tainted_claim_states_no_recycled_content(changed: Demo) -> None:
    demo = changed
    lot = demo.result.lots["Co"]
    demo.ledger.certificates.revoke(dev_accounts(2)[1], lot, b"\x0d" * 32)  # MoE
    passport = export_battery_pass(demo.ledger, demo.docs, demo.ident(IN_SERVICE))
    assert passport.schema_errors() == [] and passport.schema_errors("public") == []
    assert passport.groups["Circularity"]["recycledContent"] == []
    claim = passport.view("public")["BatteryLedger"]["recycledContentClaim"]
    assert (claim["tainted"], claim["revokedLot"], claim["coversOnChain"]) == (True, lot, False)
    assert [r["result"] for r in claim["article8"]] == ["below", "below"]
    assert claim["recycledContent"]["Co"]["sharePercent"] == 20.0  # what was attested, shown as tainted
    page = render_passport_page(passport.view("public"))
    assert f"certificate lot #{lot} it consumed was revoked" in page
    assert f'href="/verify?battery={quote(demo.ident(IN_SERVICE), safe="")}"' in page  # the importer's own check


def test_public_tier_holds_no_restricted_data(demo: Demo, tmp_path: Path) -> None:
    passport = demo.exports[REMOVED]
    public = passport.view("public")
    text = json.dumps(public)
    assert "batteryStatus" not in public["GeneralProductInformation"]
    assert "batteryCondition" not in public["PerformanceAndDurability"]
    assert "batteryMaterials" not in public["MaterialComposition"]
    for restricted in ("dismantlingAndRemovalInformation", "sparePartSources", "safetyMeasures"):
        assert restricted not in public["Circularity"]
    assert "resultOfTestReport" not in public["Labeling"]
    vin_link = passport.view("authority")["BatteryLedger"]["vehicleIdentificationHash"]
    for secret in (vin_link, "vehicleIdentificationSalt", "history", "operatorAccount", "restrictedRecordHash",
                   "test-report", "CELL_VOLTAGE_DEVIATION"):
        assert secret not in text
    assert public["Circularity"]["recycledContent"] and public["BatteryLedger"]["extinguishingAgent"]
    legit = json.dumps(passport.view("legitimateInterest"))
    assert "CELL_VOLTAGE_DEVIATION" in legit and vin_link not in legit and "resultOfTestReport" not in legit
    # the CLI's public files too
    demo.cli("battery", "export", demo.ident(REMOVED), "--out", str(tmp_path / "pub"), "--tier", "public")
    written = " ".join(f.read_text() for f in (tmp_path / "pub").iterdir())
    assert vin_link not in written and "batteryCondition" not in written and "batteryStatus" not in written


def test_dynamic_data_comes_from_the_signed_evaluations(demo: Demo) -> None:
    removed = demo.exports[REMOVED]
    condition = removed.groups["PerformanceAndDurability"]["batteryCondition"]
    report = demo.ledger.evaluations.recorded_reports(battery_id(demo.ident(REMOVED)), demo.ledger.forwarder)[-1]
    measured = report.report
    when = datetime.fromtimestamp(measured.measured_at, UTC).isoformat().replace("+00:00", "Z")
    assert condition["numberOfFullCycles"] == {"numberOfFullCyclesValue": 2_410, "lastUpdate": when}
    assert condition["internalResistanceIncrease"] == [{"internalResistanceIncreaseValue": 39.0,
                                                        "lastUpdate": when, "batteryComponent": "pack"}]
    assert condition["remainingEnergy"] == {"remainingEnergyalue": 47.9, "lastUpdate": when}  # kWh
    assert condition["remainingCapacity"]["remainingCapacityValue"] == round(47_900 / 329.0, 3)  # Ah at 329 V
    assert condition["stateOfCertifiedEnergy"]["stateOfCertifiedEnergyValue"] == 62.3
    assert condition["negativeEvents"] == [{"negativeEvent": "CELL_VOLTAGE_DEVIATION", "lastUpdate": when}]
    assert removed.sources["batteryCondition.numberOfFullCycles"].startswith("chain: evaluation report 0x")
    # never evaluated: the data sheet's beginning-of-life values, dated at manufacture
    fresh = demo.exports[IN_SERVICE]
    made = fresh.groups["GeneralProductInformation"]["manufacturingDate"]
    c = fresh.groups["PerformanceAndDurability"]["batteryCondition"]
    assert c["numberOfFullCycles"] == {"numberOfFullCyclesValue": 0, "lastUpdate": made}
    assert c["remainingEnergy"] == {"remainingEnergyalue": 77.0, "lastUpdate": made}
    assert fresh.sources["batteryCondition.numberOfFullCycles"].startswith("data sheet: beginning of life")
    # the shipped battery's state of charge is the shipment leg's (28 %)
    original = demo.exports[ORIGINAL].groups["PerformanceAndDurability"]["batteryCondition"]
    assert original["stateOfCharge"]["stateOfChargeValue"] == 28.0


def test_stationary_is_exported_as_the_schema_spells_it(demo: Demo) -> None:
    assert demo.exports[SUCCESSOR].groups["GeneralProductInformation"]["batteryCategory"] == "stationary"
    p = demo.ledger.passports
    maker = dev_accounts(8)[7]  # the demo's cell maker
    model = p.register_model(maker, "KR:KCELL:ESS-STATIONARY-TEST",
                             ModelSpec(BatteryCategory.STATIONARY, frozenset({Material.LITHIUM}), 20_000))
    bid = battery_id("KR:KCELL:ESS:0000001")
    p.register(maker, "KR:KCELL:ESS:0000001", model)
    assert export_passport(p, "KR:KCELL:ESS:0000001", bid)["public"]["batteryCategory"] == "stationary"


def test_sli_and_portable_are_categories_but_get_no_passport(demo: Demo) -> None:
    p, maker = demo.ledger.passports, dev_accounts(8)[7]
    raw = json.loads((EXAMPLES / "model-ev-ncm811.json").read_text())
    for category, enum in (("SLI", BatteryCategory.SLI), ("Portable", BatteryCategory.PORTABLE)):
        sheet = parse_model_data({**raw, "batteryModel": f"KR:KCELL:{category.upper()}-TEST",
                                  "batteryCategory": category}, "test")
        model = p.register_model(maker, sheet.batteryModel, sheet.spec())
        assert p.model(model).category == enum  # the contract enum was extended at its end, in this order
        demo.docs.publish_model(sheet)
        ident = f"KR:KCELL:{category.upper()}:0000001"
        record = BatteryRecord.model_validate({"manufacturingDate": "2026-03-01", "warrantyUntil": "2028-03-01",
                                               "manufacturingPlace": "KR-KCELL-OCHANG-02"})
        demo.docs.index.add_records([(battery_id(ident), record.canonical().decode())])
        p.register(maker, ident, model, record.record_hash())
        with pytest.raises(LedgerError, match=f"{category} batteries get no battery passport .* Art. 77"):
            export_battery_pass(demo.ledger, demo.docs, ident)


def test_manufacturer_and_operator_have_one_meaning_and_1_2_0_names(demo: Demo) -> None:
    cell_maker = dev_accounts(8)[7].address
    for what, passport in demo.exports.items():
        text = json.dumps(passport.view("authority"))
        assert "manufacturerIdentification" not in text and "economicOperator" not in text, what
    general = demo.exports[IN_SERVICE].groups["GeneralProductInformation"]
    assert general["manufacturerInformation"]["contactName"] == "K-Cell Co., Ltd."
    assert general["manufacturerInformation"]["identifier"] == "KR-BRN-134-81-00001"
    # the sheet's e-mail stays out: the 1.2.0 pattern (backslashes missing) matches no real address
    assert "emailAddress" not in general["manufacturerInformation"]
    assert json.loads((EXAMPLES / "model-ev-ncm811.json").read_text())["manufacturerInformation"]["emailAddress"]
    assert general["operatorInformation"]["contactName"] == "K-Motors Co., Ltd."
    ledger_facts = demo.exports[IN_SERVICE].view("legitimateInterest")["BatteryLedger"]
    assert ledger_facts["manufacturerAccount"] == cell_maker  # the account is named as one
    chain_view = export_passport(demo.ledger.passports, demo.ident(IN_SERVICE), battery_id(demo.ident(IN_SERVICE)))
    assert chain_view["public"]["manufacturerAccount"] == cell_maker
    assert "manufacturerIdentification" not in json.dumps(chain_view)
    assert "economicOperator" not in json.dumps(chain_view)
    # the contact record must be the one registered on-chain
    contact = demo.data / "participants" / f"{dev_accounts(11)[10].address}.json"  # the demo's dismantler
    saved = contact.read_bytes()
    try:
        contact.write_text(json.dumps({**json.loads(saved), "contactName": "Someone Else"}))
        with pytest.raises(LedgerError, match="does not match its registration on-chain"):
            export_battery_pass(demo.ledger, demo.docs, demo.ident(REMOVED))
    finally:
        contact.write_bytes(saved)


def test_repurposed_successor_has_its_own_category_and_model(demo: Demo) -> None:
    successor, original = demo.exports[SUCCESSOR], demo.exports[ORIGINAL]
    assert original.groups["GeneralProductInformation"]["batteryCategory"] == "ev"
    assert original.groups["GeneralProductInformation"]["batteryStatus"] == "Repurposed"
    general = successor.groups["GeneralProductInformation"]
    assert (general["batteryCategory"], general["batteryStatus"]) == ("stationary", "Waste")
    assert general["manufacturerInformation"]["contactName"] == "Hanbit Second Life Co., Ltd."
    facts = successor.view("legitimateInterest")["BatteryLedger"]
    assert facts["batteryModel"] == "KR:REPURPOSE:ESS-60"
    assert demo.ledger.passports.battery(battery_id(demo.ident(SUCCESSOR))).model_id == identifier(
        "KR:REPURPOSE:ESS-60")  # the chain names the successor's own model
    assert facts["predecessor"]["productIdentifier"] == demo.ident(ORIGINAL)
    assert successor.groups["PerformanceAndDurability"]["batteryTechicalProperties"]["ratedEnergy"] == 60.0
    assert facts["recyclingCertificateLot"] > 0 and facts["passportClosed"] is True
    # its record comes from the second-life record bound on-chain: a changed record is refused
    path = demo.data / "second-life" / f"{battery_id(demo.ident(SUCCESSOR)).hex()}.json"
    saved = path.read_bytes()
    try:
        changed_record = json.loads(saved)
        changed_record["record"]["warrantyUntil"] = "2040-01-01"
        path.write_text(json.dumps(changed_record))
        with pytest.raises(LedgerError, match="its second-life record does not match the hash on-chain"):
            export_battery_pass(demo.ledger, demo.docs, demo.ident(SUCCESSOR))
    finally:
        path.write_bytes(saved)


def test_never_materialized_batch_battery_exports_from_its_batch_or_is_refused(demo: Demo) -> None:
    ident = demo.ident(UNMATERIALIZED)
    bid = battery_id(ident)
    with pytest.raises(LedgerError, match=f"{ident} has no record of its own on-chain"):
        export_passport(demo.ledger.passports, ident, bid)  # the chain view no longer exports zeros
    passport = demo.exports[UNMATERIALIZED]
    general = passport.groups["GeneralProductInformation"]
    assert general["batteryStatus"] == "Original"
    assert general["operatorInformation"]["contactName"] == "K-Cell Co., Ltd."
    assert general["manufacturingDate"] != "1970-01-01T00:00:00Z"
    assert general["manufacturingDate"].startswith(("2025", "2026", "2027"))
    facts = passport.view("authority")["BatteryLedger"]
    assert facts["materializedOnChain"] is False and facts["registeredInBatch"] == 1
    assert facts["batteryModel"] == "KR:KCELL:NCM811-E-POUCH-78AH"
    assert demo.ledger.passports.battery(bid).status == BatteryStatus.NONE  # exporting sent nothing
    with pytest.raises(LedgerError, match="KR:NOWHERE:1 is not registered"):
        export_battery_pass(demo.ledger, demo.docs, "KR:NOWHERE:1")


def test_vehicle_identification_hash_is_salted(demo: Demo) -> None:
    for what, vin in ((IN_SERVICE, "KMHK381GFPU000002"), (REMOVED, "KMHK381GFPU000003")):
        bid = battery_id(demo.ident(what))
        link = demo.ledger.passports.battery(bid).link
        assert link != identifier(vin) and link != keccak(vin.encode())  # not the bare keccak of the VIN
        salt = demo.docs.vin_salt(bid)
        assert salt is not None and len(salt) == 32 and link == vin_hash(vin, salt)
        assert link != vin_hash("KMHK381GFPU000009", salt)
        authority = demo.exports[what].view("authority")["BatteryLedger"]
        assert authority["vehicleIdentificationSalt"] == "0x" + salt.hex()
    salts = {demo.docs.vin_salt(battery_id(demo.ident(w))) for w in (ORIGINAL, IN_SERVICE, REMOVED)}
    assert len(salts) == 3  # one secret per battery
    mode = (demo.data / "authority" / "vin-salts.json").stat().st_mode & 0o777
    assert mode == 0o600
    with pytest.raises(ValueError, match="32 bytes"):
        vin_hash("KMHK381GFPU000002", b"short")


def test_identifier_urn_mapping_is_reversible() -> None:
    for ident in ("KR:KCELL:EV:0000001", "A", "Z-Z.Z/Z:Z+Z", "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-./:+", "ZZZ" * 33):
        urn = to_urn(ident)
        assert re.fullmatch(batterypass.schema("GeneralProductInformation")["components"]["schemas"][
            "ProductPassportIdentifierTrait"]["pattern"], urn)
        assert from_urn(urn) == ident
    assert to_urn("KR:KCELL:EV:0000001") == "urn:bledger:krzdkcellzdevzd0000001"
    for bad, message in (("urn:bledger:krzq1", "'zq' is not an escape"), ("urn:other:kr", "not a battery passport"),
                         ("urn:bledger:kr:1", "not a battery passport"), ("urn:bledger:krz", "'z' is not an escape")):
        with pytest.raises(ValueError, match=message):
            from_urn(bad)
    with pytest.raises(ValueError, match="not an ISO/IEC 15459-style identifier"):
        to_urn("kr:lower")


def test_public_page_and_qr_label(demo: Demo, tmp_path: Path) -> None:
    passport = demo.exports[REMOVED]
    page = render_passport_page(passport.view("authority"))  # even given everything, it prints the public part
    assert page.startswith("<!doctype html>") and "urn:bledger:krzdkcellzdevzd0000003" in page
    assert "8.57 %" in page and "20.00 %" in page and "EU Article 8, 2031" in page
    assert "K-Cell Co., Ltd." in page and "stationary" not in page
    vin_link = passport.view("authority")["BatteryLedger"]["vehicleIdentificationHash"]
    for restricted in (vin_link, "CELL_VOLTAGE_DEVIATION", "test-report", "Removed", "dismantling-manual"):
        assert restricted not in page
    hostile = passport.view("public")
    hostile["GeneralProductInformation"] = {**hostile["GeneralProductInformation"],
                                            "productIdentifier": "<script>alert(1)</script>"}
    assert "<script>" not in render_passport_page(hostile)
    out = runner.invoke(app, ["battery", "label", demo.ident(REMOVED), "--base", "https://passport.example/",
                              "--out", str(tmp_path)]).output
    url = passport_url("https://passport.example", demo.ident(REMOVED))
    assert url == "https://passport.example/p/urn:bledger:krzdkcellzdevzd0000003" and url in out
    png = tmp_path / "urn-bledger-krzdkcellzdevzd0000003.png"
    svg = tmp_path / "urn-bledger-krzdkcellzdevzd0000003.svg"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "<svg" in svg.read_text()
    bad = runner.invoke(app, ["battery", "label", demo.ident(REMOVED), "--base", "passport.example", "--out",
                              str(tmp_path / "x")])
    assert bad.exit_code == 1 and "must be an http(s) URL" in bad.output


def test_records_come_with_registration_or_import(changed: Demo, tmp_path: Path) -> None:
    demo = changed
    common = ["--rpc", demo.node.url, "--deployment", str(demo.deployment), "--data", str(demo.data)]
    model = "KR:KCELL:NCM811-E-POUCH-78AH"
    out = runner.invoke(app, ["battery", "register", "KR:KCELL:EV:SINGLE:1", model, "--manufacturing-date",
                              "2026-09-01", "--plant", "KR-KCELL-OCHANG-02", "--warranty-until", "2034-08-31",
                              "--key", "dev:7", *common])
    assert out.exit_code == 0, out.output
    bid = battery_id("KR:KCELL:EV:SINGLE:1")
    record = demo.docs.battery_record(bid)
    assert record is not None and demo.ledger.passports.history(bid)[-1].evidence_hash == record.record_hash()
    passport = export_battery_pass(demo.ledger, demo.docs, "KR:KCELL:EV:SINGLE:1")
    assert passport.schema_errors() == []
    general = passport.groups["GeneralProductInformation"]
    assert (general["manufacturingDate"], general["warrentyPeriod"]) == ("2026-09-01T00:00:00Z", "--08")
    assert passport.view("public")["BatteryLedger"]["warrantyUntil"] == "2034-08-31"
    half = runner.invoke(app, ["battery", "register", "KR:KCELL:EV:SINGLE:2", model, "--plant", "KR-KCELL-OCHANG-02",
                               "--key", "dev:7", *common])
    assert half.exit_code == 1 and "needs all of --manufacturing-date, --plant and --warranty-until" in half.output
    assert demo.ledger.passports.battery(battery_id("KR:KCELL:EV:SINGLE:2")).status == BatteryStatus.NONE

    # import: the record columns go to the index; a bad record stops the batch at its line, nothing anchored
    good = tmp_path / "good.csv"
    header = "batteryPassportIdentifier,batteryModel,manufacturingDate,manufacturingPlace,warrantyUntil\n"
    good.write_text(header + "".join(f"KR:KCELL:EV:IMP:{i},{model},2026-10-0{i},KR-KCELL-OCHANG-02,2034-10-01\n"
                                     for i in range(1, 4)))
    assert "3 batteries in 1 batches anchored" in runner.invoke(app, ["battery", "import", str(good), "--key",
                                                                      "dev:7", *common]).output
    imported = export_battery_pass(demo.ledger, demo.docs, "KR:KCELL:EV:IMP:2")
    assert imported.schema_errors() == []
    assert imported.groups["GeneralProductInformation"]["manufacturingDate"] == "2026-10-02T00:00:00Z"
    batches = demo.ledger.passports.batch_count()
    bad = tmp_path / "bad.csv"
    bad.write_text(header + f"KR:KCELL:EV:IMP:7,{model},2026-10-07,KR-KCELL-OCHANG-02,2034-10-01\n"
                   f"KR:KCELL:EV:IMP:8,{model},not a date,KR-KCELL-OCHANG-02,2034-10-01\n")
    result = runner.invoke(app, ["battery", "import", str(bad), "--key", "dev:7", *common])
    assert result.exit_code == 1 and "bad.csv:3: manufacturingDate: Input should be a valid datetime" in " ".join(
        result.output.split())
    assert demo.ledger.passports.batch_count() == batches and demo.docs.battery_record(
        battery_id("KR:KCELL:EV:IMP:7")) is None
    partial = tmp_path / "partial.csv"
    partial.write_text(f"batteryPassportIdentifier,batteryModel,manufacturingDate\nKR:X:1,{model},2026-10-07\n")
    result = runner.invoke(app, ["battery", "import", str(partial), "--key", "dev:7", *common])
    assert result.exit_code == 1 and "partial.csv:1: header has record columns but lacks manufacturingPlace, " \
                                     "warrantyUntil" in " ".join(result.output.split())


def test_second_life_from_the_cli_opens_a_passport_of_its_own_model(changed: Demo) -> None:
    demo = changed
    from chain_client.logistics import InspectionKind

    common = ["--rpc", demo.node.url, "--deployment", str(demo.deployment), "--data", str(demo.data)]
    ident, successor = demo.ident(REMOVED), "KR:REPURPOSE:ESS:0000002"
    now = int(demo.backend.w3.eth.get_block("latest")["timestamp"])
    demo.ledger.inspections.record(dev_accounts(15)[14], battery_id(ident), InspectionKind.PRE_DISTRIBUTION, True,
                                   now + 30 * 86_400, b"\x1f" * 32)  # the demo's inspection body
    reuser = dev_accounts(12)[11].address
    assert runner.invoke(app, ["battery", "transfer", ident, reuser, "--key", "dev:10", *common]).exit_code == 0
    ess = ["--successor-model", "KR:REPURPOSE:ESS-60"]
    wrong_plant = runner.invoke(app, ["battery", "status", ident, "repurposed", "--successor", successor, *ess,
                                      "--plant", "KR-KCELL-OCHANG-02", "--warranty-until", "2031-12-31",
                                      "--key", "dev:11", *common])
    assert wrong_plant.exit_code == 1 and "is not a plant of KR:REPURPOSE:ESS-60" in wrong_plant.output
    half = runner.invoke(app, ["battery", "status", ident, "repurposed", "--successor", successor, *ess,
                               "--plant", "KR-HANBIT2-JEJU-01", "--key", "dev:11", *common])
    assert half.exit_code == 1 and "needs both --plant and --warranty-until" in half.output
    done = runner.invoke(app, ["battery", "status", ident, "repurposed", "--successor", successor, *ess,
                               "--plant", "KR-HANBIT2-JEJU-01", "--warranty-until", "2031-12-31",
                               "--key", "dev:11", *common])
    assert done.exit_code == 0, done.output
    passport = export_battery_pass(demo.ledger, demo.docs, successor)
    assert passport.schema_errors() == []
    general = passport.groups["GeneralProductInformation"]
    assert (general["batteryCategory"], general["batteryStatus"]) == ("stationary", "Repurposed")
    assert general["manufacturingPlace"]["streetAddress"].endswith("hall 1")
    assert passport.view("public")["BatteryLedger"]["puttingIntoServiceKnown"] is False


def test_demo_deployment_file_needs_a_node(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--deployment", str(tmp_path / "dep.json")])
    assert result.exit_code == 1 and "--deployment needs --rpc" in result.output
    assert not (tmp_path / "dep.json").exists()
