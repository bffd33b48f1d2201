"""The bledger command line, end to end: the demo on the embedded chain, role commands on anvil."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chain_client.anvil import AnvilNode
from chain_client.cli import app
from chain_client.cli.claims import read_claim_file
from chain_client.keys import dev_accounts

runner = CliRunner()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, f"bledger {' '.join(args)} failed:\n{result.output}"
    return result.output


def test_demo_reports_ratios_next_to_eu_minimums() -> None:
    out = run("demo")
    assert "CertificatesInsufficientBalance" in out
    assert re.search(r"Li\s+│\s+700 kg\s+│\s+60 kg\s+│\s+0\.00 %\s+│\s+8\.57 %\s+│\s+8\.57 %\s+│\s+6 % meets\s+│\s+12 % below", out)
    assert "EU 2031 minimums: attested claim meets them: True" in out
    flat = " ".join(out.split())
    assert "Original -> handover -> InService -> handover -> Removed -> handover -> Repurposed" in flat
    assert "grade computed on-chain: upper" in flat and "shipped at 28 % state of charge" in flat
    assert "tainted=True, meets=False" in out
    assert "refused before the delay, executed after 48 h (chain time travelled): limit now 25 %" in flat


def claim_file(tmp_path: Path, **overrides: object) -> Path:
    data: dict[str, object] = {
        "batteryModel": "KR:KC:78AH", "plant": "OCHANG-2", "periodStart": "2026-01-01",
        "periodEnd": "2026-06-30", "custodyModel": "mass_balance", "contentGrams": {"Li": 1_000_000},
        "allocations": [{"lotId": 1, "grams": 80_000}],
    }
    data.update(overrides)
    path = tmp_path / "claim.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"allocations": []}, "allocations: List should have at least 1 item"),
        ({"contentGrams": {"Xx": 5}}, "unknown material 'Xx'"),
        ({"custodyModel": "vibes"}, "custodyModel: Value error, use one of"),
        ({"allocations": [{"lotId": 1, "grams": -3}]}, "allocations.0.grams: Input should be greater than 0"),
        ({"periodStart": "last spring"}, "'last spring' is neither unix seconds nor an ISO date"),
        ({"surprise": 1}, "surprise: Extra inputs are not permitted"),
    ],
)
def test_malformed_claim_files_are_reported_with_the_file(tmp_path: Path, overrides: dict[str, object],
                                                          message: str) -> None:
    path = claim_file(tmp_path, **overrides)
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        read_claim_file(path)
    assert str(path) in str(info.value)


def test_broken_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{\n "batteryModel": "x",\n oops\n}')
    with pytest.raises(ValueError, match=r"bad.json: line 3: invalid JSON"):
        read_claim_file(path)


def test_role_commands_against_a_node(tmp_path: Path, anvil_node: AnvilNode) -> None:
    """A whole cycle through the CLI on anvil, with the deployment file as the only shared state."""
    gov, moe, motie, molit, recycler, cell_maker = (a.address for a in dev_accounts(6))
    dep = str(tmp_path / "deployment.json")
    common = ["--rpc", anvil_node.url, "--deployment", dep]
    run("deploy", "--rpc", anvil_node.url, "--out", dep, "--key", "dev:0", "--moe", moe, "--motie", motie,
        "--molit", molit)
    written = json.loads(Path(dep).read_text())
    assert written["deployer"] == gov and written["governance"] == written["committee"]["timelock"] != gov
    run("registry", "register", recycler, "--role", "recycler", *common, "--key", "dev:1")
    run("registry", "register", cell_maker, "--role", "cell_maker", *common, "--key", "dev:2")
    run("battery", "prefix", "KR:KC", "--holder", cell_maker, *common, "--key", "dev:2")
    run("battery", "model", str(model_sheet(tmp_path, metalContent={"Li": 160})), *common, "--key", "dev:5",
        "--data", str(tmp_path / "data"))
    run("registry", "facility", "PLANT-1", recycler, "2025-01-01", "2027-12-31", *common, "--key", "dev:1")
    run("cert", "apply", "--material", "Li", "--grams", "100000", "--form", "Li2CO3", "--facility", "PLANT-1",
        "--period-start", "2026-01-01", "--period-end", "2026-03-31", *common, "--key", "dev:4",
        "--relayer", "dev:3")
    run("cert", "decide", "certify", "1", *common, "--key", "dev:1")
    run("cert", "transfer", "1", cell_maker, "90000", "--shipment", "SHIP-9", *common, "--key", "dev:4")
    assert "balance of" in run("cert", "show", "1", "--holder", cell_maker, *common)
    path = claim_file(tmp_path)
    assert "claim #1 opened" in run("claim", "open", str(path), *common, "--key", "dev:5")
    run("claim", "decide", "attest", "1", *common, "--key", "dev:2")
    out = run("claim", "verify", "1", *common)
    assert "8.00 %" in out and "meets EU 2031 minimums: True" in out and "meets EU 2036 minimums: False" in out

    # a refused act: one clean line, exit code 1, nothing changed
    result = runner.invoke(app, ["claim", "open", str(path), *common, "--key", "dev:5"])
    assert result.exit_code == 1
    assert "CertificatesInsufficientBalance(lotId=1" in result.output
    result = runner.invoke(app, ["cert", "decide", "certify", "1", *common, "--key", "dev:2"])
    assert result.exit_code == 1 and "AccessControlUnauthorizedAccount" in result.output
    result = runner.invoke(app, ["registry", "show", recycler, "--rpc", anvil_node.url, "--deployment",
                                 str(tmp_path / "missing.json")])
    assert result.exit_code == 1 and "run `bledger deploy" in result.output


def model_sheet(tmp_path: Path, **overrides: object) -> Path:
    """The example EV data sheet, renamed KR:KC:78AH, with ``overrides`` (a value of None removes the field)."""
    from chain_client.model_data import EXAMPLES

    sheet: dict[str, object] = json.loads((EXAMPLES / "model-ev-ncm811.json").read_text())
    sheet.update({"batteryModel": "KR:KC:78AH", "metalContent": {"Li": 160, "Ni": 620, "Co": 1_100}})
    sheet.update(overrides)
    sheet = {k: v for k, v in sheet.items() if v is not None}
    path = tmp_path / "model.json"
    path.write_text(json.dumps(sheet, indent=2))
    return path


def test_model_data_sheets_are_validated(tmp_path: Path) -> None:
    from chain_client.errors import LedgerError
    from chain_client.model_data import read_model_data

    good = read_model_data(model_sheet(tmp_path))
    assert good.data_hash() == read_model_data(model_sheet(tmp_path)).data_hash()  # white space does not matter
    cases: list[tuple[dict[str, object], str]] = [({"batteryMass": 0}, "batteryMass: Input should be greater than 0"),
                               ({"metalContent": {"Xx": 1}}, "unknown metal 'Xx'"),
                               ({"metalContent": {"Co": -5}}, "Co: -5 g is impossible"),
                               ({"batteryCategory": "Toy"}, "batteryCategory: Input should be 'EV'"),
                               ({"colour": "blue"}, "colour: Extra inputs are not permitted"),
                               ({"carbonFootprintStudyHash": None}, "carbonFootprintStudyHash: Field required"),
                               ({"carbonFootprintStudyHash": "0x12"}, "carbonFootprintStudyHash: Value error, must be"),
                               ({"manufacturingPlaces": {}}, "manufacturingPlaces: Dictionary should have at least 1")]
    raw = json.loads(model_sheet(tmp_path).read_text())
    # the Battery Pass 1.2.0 schemas decide what a section must hold: a sheet lacking a required field is refused
    tp = dict(raw["batteryTechicalProperties"])
    del tp["ratedEnergy"]
    circ = {k: v for k, v in raw["circularity"].items() if k != "safetyMeasures"}
    maker = {k: v for k, v in raw["manufacturerInformation"].items() if k != "postalAddress"}
    labels = {k: v for k, v in raw["labeling"].items() if k != "declarationOfConformity"}
    due = {"supplyChainDueDiligenceReport": "not a uri"}
    cases += [({"batteryTechicalProperties": tp}, "batteryTechicalProperties: 'ratedEnergy' is a required property"),
              ({"circularity": circ}, "circularity: 'safetyMeasures' is a required property"),
              ({"manufacturerInformation": maker}, "manufacturerInformation: 'postalAddress' is a required property"),
              ({"labeling": labels}, "labeling: 'declarationOfConformity' is a required property"),
              ({"supplyChainDueDiligence": due}, "supplyChainDueDiligence.supplyChainDueDiligenceReport: 'not a uri' "
                                                 "is not a 'uri'"),
              ({"manufacturerInformation": {**raw["manufacturerInformation"], "emailAddress": "no-address"}},
               "manufacturerInformation.emailAddress: 'no-address' is not an e-mail address"),
              ({"manufacturingPlaces": {"P1": {"addressCountry": "KR"}}},
               "manufacturingPlaces.P1: 'postalCode' is a required property")]
    for overrides, message in cases:
        with pytest.raises(LedgerError, match=re.escape(message)):
            read_model_data(model_sheet(tmp_path, **overrides))


def test_battery_commands_against_a_node(tmp_path: Path, anvil_node: AnvilNode) -> None:
    gov, moe, motie, molit, maker, ev_maker = (a.address for a in dev_accounts(6))
    dep = str(tmp_path / "deployment.json")
    common = ["--rpc", anvil_node.url, "--deployment", dep, "--data", str(tmp_path / "data")]
    run("deploy", "--rpc", anvil_node.url, "--out", dep, "--key", "dev:0", "--moe", moe, "--motie", motie,
        "--molit", molit)
    run("registry", "register", maker, "--role", "cell_maker", "--rpc", anvil_node.url, "--deployment", dep,
        "--key", "dev:2")
    run("registry", "register", ev_maker, "--role", "ev_maker", "--rpc", anvil_node.url, "--deployment", dep,
        "--key", "dev:3")
    run("battery", "prefix", "KR:KC", "--holder", maker, "--rpc", anvil_node.url, "--deployment", dep,
        "--key", "dev:2")
    sheet = model_sheet(tmp_path)
    run("battery", "model", str(sheet), "--rpc", anvil_node.url, "--deployment", dep, "--key", "dev:4",
        "--data", str(tmp_path / "data"))
    csv_file = tmp_path / "batteries.csv"
    csv_file.write_text("batteryPassportIdentifier,batteryModel\n" + "".join(
        f"KR:KC:{i:04d},KR:KC:78AH\n" for i in range(1, 6)))
    out = run("battery", "import", str(csv_file), "--batch-size", "2", *common, "--key", "dev:4")
    assert "5 batteries in 3 batches anchored" in out
    assert "nothing new: the first 6 lines of batteries.csv were imported before" in run(
        "battery", "import", str(csv_file), *common, "--key", "dev:4")
    proof = json.loads(run("battery", "prove", "KR:KC:0003", *common))
    assert proof["verifiedOnChain"] is True and proof["batchId"] == 2
    assert json.loads(run("battery", "show", "KR:KC:0003", *common))["registeredInBatch"] == 2
    run("battery", "transfer", "KR:KC:0003", ev_maker, *common, "--key", "dev:4")
    run("battery", "status", "KR:KC:0003", "in-service", "--vin", "KMHK381GFPU000009", *common, "--key", "dev:5")
    passport = json.loads(run("battery", "show", "KR:KC:0003", *common))
    assert passport["public"]["batteryCategory"] == "ev"
    assert passport["public"]["modelDataVerified"] is True
    assert passport["public"]["modelData"]["metalContent"]["Co"] == 1_100
    assert passport["public"]["manufacturerAccount"] == maker
    assert passport["legitimateInterest"]["batteryStatus"] == "Original"
    assert passport["legitimateInterest"]["lifeCycleStep"] == "InService"
    assert passport["legitimateInterest"]["operatorAccount"] == ev_maker
    assert [h["lifeCycleStep"] for h in passport["legitimateInterest"]["history"]] == [
        "Original", "Original", "InService"]
    assert "#3" in run("battery", "history", "KR:KC:0003", "--rpc", anvil_node.url, "--deployment", dep)

    bad = tmp_path / "bad.csv"
    bad.write_text("batteryPassportIdentifier,batteryModel\nKR:KC:0100,KR:KC:78AH\nKR:KC:0003,KR:KC:78AH\n")
    result = runner.invoke(app, ["battery", "import", str(bad), *common, "--key", "dev:4"])
    assert result.exit_code == 1
    assert "bad.csv:3: KR:KC:0003 is already registered (batteries.csv:4)" in " ".join(result.output.split())
    result = runner.invoke(app, ["battery", "status", "KR:KC:0003", "removed", *common, "--key", "dev:4"])
    assert result.exit_code == 1 and "RegistryMissingRole" in result.output
    assert gov


def test_safety_and_oracle_commands_against_a_node(tmp_path: Path, anvil_node: AnvilNode) -> None:
    keys = dev_accounts(12)
    gov, moe, motie, molit, maker, ev_maker, evaluator, device, inspector, transporter, storage, dismantler = (
        a.address for a in keys)
    dep = str(tmp_path / "deployment.json")
    node = ["--rpc", anvil_node.url, "--deployment", dep]
    run("deploy", *node[:2], "--out", dep, "--key", "dev:0", "--moe", moe, "--motie", motie, "--molit", molit)
    for account, role, authority in [(maker, "cell_maker", 2), (ev_maker, "ev_maker", 3), (evaluator, "evaluator", 3),
                                     (inspector, "inspection_body", 2), (transporter, "transporter", 1),
                                     (storage, "storage_operator", 1), (dismantler, "collector_dismantler", 1)]:
        run("registry", "register", account, "--role", role, *node, "--key", f"dev:{authority}")
    data = ["--data", str(tmp_path / "data")]
    run("battery", "prefix", "KR:KC", "--holder", maker, *node, "--key", "dev:2")
    run("battery", "model", str(model_sheet(tmp_path)), *node, "--key", "dev:4", *data)
    run("battery", "register", "KR:KC:0001", "KR:KC:78AH", *node, *data, "--key", "dev:4")
    run("battery", "transfer", "KR:KC:0001", ev_maker, *node, *data, "--key", "dev:4")
    run("battery", "status", "KR:KC:0001", "in-service", "--vin", "KMHK381GFPU000001", *node, *data, "--key", "dev:5")
    result = runner.invoke(app, ["eval", "device", device, *node, "--key", "dev:6"])
    assert result.exit_code == 1 and "needs its proof of possession" in result.output
    run("eval", "device", device, "--device-key", "dev:7", *node, "--key", "dev:6")

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.csv").write_text(
        "batteryPassportIdentifier,stateOfHealth,remainingCapacity,internalResistanceIncrease,cycleCount,faultFlags,"
        "measuredAt\nKR:KC:0001,66.4,51.5,18,1320,,2026-11-20T10:00:00\n")
    oracle = ["--device-key", "dev:7", "--relayer", "dev:0", "--state", str(tmp_path / "oracle.sqlite")]
    out = run("oracle", "submit", str(inbox / "a.csv"), *node, *oracle)
    assert "1 reports recorded in 1 transactions" in out
    assert "0 reports recorded in 0 transactions, 1 already recorded" in run(
        "oracle", "submit", str(inbox / "a.csv"), *node, *oracle)
    assert "grade middle (SOH 66.40 %" in run("eval", "show", "KR:KC:0001", *node)
    result = runner.invoke(app, ["oracle", "submit", str(inbox / "a.csv"), *node, "--device-key", "dev:8",
                                 "--relayer", "dev:0", "--state", str(tmp_path / "o2.sqlite")])
    assert result.exit_code == 1 and "is not a registered device" in result.output
    (inbox / "a.csv").rename(inbox / "b.csv")
    (inbox / "bad.jsonl").write_text('{"batteryPassportIdentifier": "KR:KC:0001", "stateOfHealth": 101}\n')
    out = run("oracle", "watch", str(inbox), *node, *oracle, "--rounds", "1", "--interval", "0", "--min-age", "0")
    assert (inbox / "done" / "b.csv").exists() and (inbox / "failed" / "bad.jsonl").exists()
    assert "bad.jsonl failed" in out

    run("battery", "transfer", "KR:KC:0001", dismantler, *node, *data, "--key", "dev:5")
    run("battery", "status", "KR:KC:0001", "removed", *node, *data, "--key", "dev:11")
    result = runner.invoke(app, ["battery", "transfer", "KR:KC:0001", ev_maker, *node, *data, "--key", "dev:11"])
    assert result.exit_code == 1 and "InspectionMissing" in result.output
    result = runner.invoke(app, ["inspect", "record", "KR:KC:0001", "pre", "--valid-until", "2099-01-01", *node,
                                 "--key", "dev:8"])
    assert result.exit_code == 1 and "InspectionValidityTooLong" in result.output  # beyond the policy's maximum
    valid_until = (datetime.now(UTC) + timedelta(days=90)).date().isoformat()
    run("inspect", "record", "KR:KC:0001", "pre", "--valid-until", valid_until, *node, "--key", "dev:8")
    result = runner.invoke(app, ["transport", "ship", "KR:KC:0001", dismantler, storage, "--soc", "35", *node,
                                 "--key", "dev:9"])
    assert result.exit_code == 1 and "TransportStateOfChargeTooHigh(socBps=3500, maxSocBps=3000)" in result.output
    run("transport", "ship", "KR:KC:0001", dismantler, storage, "--soc", "28.5", *node, "--key", "dev:9")
    run("storage", "site", "ICHEON-1", "100", *node, "--key", "dev:10")
    assert "60 of 100 kWh used" in run("storage", "intake", "ICHEON-1", "KR:KC:0001", "60", *node, "--key", "dev:10")
    run("battery", "register", "KR:KC:0002", "KR:KC:78AH", *node, *data, "--key", "dev:4")
    run("battery", "transfer", "KR:KC:0002", storage, *node, *data, "--key", "dev:4")
    result = runner.invoke(app, ["storage", "intake", "ICHEON-1", "KR:KC:0002", "50", *node, "--key", "dev:10"])
    assert result.exit_code == 1 and "StorageCapacityExceeded" in result.output
    run("storage", "release", "ICHEON-1", "KR:KC:0001", *node, "--key", "dev:10")
    assert gov


def test_governance_commands_against_a_node(tmp_path: Path, anvil_node: AnvilNode) -> None:
    """A rule change through the committee by CLI: propose, approve, schedule, wait, execute; status all along."""
    from chain_client.backends import RpcBackend

    gov, moe, motie, molit, transporter = (a.address for a in dev_accounts(5))
    dep, proposals = str(tmp_path / "deployment.json"), str(tmp_path / "proposals")
    node = ["--rpc", anvil_node.url, "--deployment", dep]
    gv = [*node, "--proposals", proposals]
    run("deploy", *node[:2], "--out", dep, "--key", "dev:0", "--moe", moe, "--motie", motie, "--molit", molit,
        "--delay", "600")
    result = runner.invoke(app, ["governance", "propose", "soc-limit", "25", *gv, "--key", "dev:0"])
    assert result.exit_code == 1 and f"{gov} is not a member of the policy committee" in result.output
    result = runner.invoke(app, ["governance", "propose", "soc-limit", "0", *gv, "--key", "dev:1"])
    assert result.exit_code == 1 and "TransportInvalidPolicy(maxSocBps=0)" in result.output
    out = run("governance", "propose", "soc-limit", "25", *gv, "--key", "dev:1")
    assert "proposed: transport SOC limit: 25 %" in out and "1 of 2 signatures (moe)" in out
    op = re.search(r"operation (0x[0-9a-f]{64})", out).group(1)  # type: ignore[union-attr]
    result = runner.invoke(app, ["governance", "execute", op[:10], *gv, "--key", "dev:1"])
    assert result.exit_code == 1 and "1 of 2 signatures: more ministries must approve" in result.output
    assert "2 of 2 signatures (motie, moe)" in run("governance", "approve", op[:10], *gv, "--key", "dev:2")
    assert "executable from" in run("governance", "execute", op[:10], *gv, "--key", "dev:3")
    assert "waiting, ready" in run("governance", "status", *gv)
    result = runner.invoke(app, ["governance", "execute", op[:10], *gv, "--key", "dev:3"])
    assert result.exit_code == 1 and "the delay runs until" in result.output
    RpcBackend(anvil_node.url).advance_time(601)
    assert "executed: transport SOC limit: 25 %" in run("governance", "execute", op, *gv, "--key", "dev:4")
    assert "done" in run("governance", "status", *gv)
    run("registry", "register", transporter, "--role", "transporter", *node, "--key", "dev:1")
    out = runner.invoke(app, ["transport", "ship", "KR:X:1", gov, gov, "--soc", "28", *node, "--key", "dev:4"]).output
    assert "maxSocBps=2500" in out or "RegistryUnknownParticipant" in out


def test_no_command_signs_with_a_key_nobody_chose(tmp_path: Path, anvil_node: AnvilNode,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BLEDGER_KEY", raising=False)
    _gov, moe, motie, molit, recycler = (a.address for a in dev_accounts(5))
    dep = str(tmp_path / "deployment.json")
    node = ["--rpc", anvil_node.url, "--deployment", dep]
    result = runner.invoke(app, ["deploy", *node[:2], "--out", dep, "--moe", moe, "--motie", motie, "--molit", molit])
    assert result.exit_code == 1 and "no signing key chosen" in result.output
    assert not Path(dep).exists()
    run("deploy", *node[:2], "--out", dep, "--key", "dev:0", "--moe", moe, "--motie", motie, "--molit", molit)
    for command in (["registry", "register", recycler, "--role", "recycler"], ["cert", "decide", "certify", "1"],
                    ["registry", "status", "suspend", recycler]):
        result = runner.invoke(app, [*command, *node])
        assert result.exit_code == 1 and "no signing key chosen" in result.output, command
    result = runner.invoke(app, ["oracle", "submit", str(tmp_path / "x.csv"), *node, "--device-key", "dev:7"])
    assert result.exit_code == 1 and "no signing key chosen" in result.output


def test_dev_keys_are_refused_off_a_dev_chain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BLEDGER_ALLOW_DEV_KEYS", raising=False)
    _gov, moe, motie, molit = (a.address for a in dev_accounts(4))
    dep = str(tmp_path / "deployment.json")
    with AnvilNode(extra_args=["--chain-id", "4242"]) as other:
        node = ["--rpc", other.url, "--deployment", dep]
        deploy = ["deploy", *node[:2], "--out", dep, "--moe", moe, "--motie", motie, "--molit", molit]
        result = runner.invoke(app, [*deploy, "--key", "dev:0"])
        assert result.exit_code == 1 and "dev:0 is a public dev key" in result.output and "chain 4242" in result.output
        assert not Path(dep).exists()
        run("--allow-dev-keys", *deploy, "--key", "dev:0")
        monkeypatch.setenv("BL_MOE_KEY", dev_accounts(2)[1].key.hex())
        run("registry", "register", dev_accounts(6)[5].address, "--role", "recycler", *node, "--key", "env:BL_MOE_KEY")
        result = runner.invoke(app, ["registry", "register", dev_accounts(7)[6].address, "--role", "recycler", *node,
                                     "--key", "dev:1"])
        assert result.exit_code == 1 and "public dev key" in result.output
        result = runner.invoke(app, ["oracle", "submit", str(tmp_path / "x.csv"), *node, "--device-key", "dev:7",
                                     "--relayer", "env:BL_MOE_KEY"])
        assert result.exit_code == 1 and "dev:7 is a public dev key" in result.output
