"""The README's command examples run as written, on anvil: every ``bledger …`` line of its ``sh`` blocks is extracted,
its placeholders (ADDR, ID, FILE, ...) are filled with real values, alternatives ``a|b`` take the first, optional
``[--opt VALUE]`` groups are kept when they hold a value (``[--packaging 965]``), and the commands run in the
README's order. Each must exit 0, or be refused by the contract for a business reason listed below (never a
traceback, never the client refusing the README's own values)."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chain_client.anvil import AnvilNode
from chain_client.backends import RpcBackend
from chain_client.cli.common import parse_time
from chain_client.evaluations import sign_device_registration
from chain_client.keys import dev_accounts
from chain_client.demo import contact_of
from chain_client.model_data import EXAMPLES
from chain_client.passport_documents import PassportDocuments
from chain_client.suite import Deployment, Ledger
from chain_client.transactions import TxSender
from chain_client.vocabulary import BusinessRole, identifier

README = Path(__file__).resolve().parents[1] / "README.md"
A = dev_accounts(30)
GOV, MOE, MOTIE, MOLIT, RECYCLER, CELL_MAKER = (a.address for a in A[:6])
SPARE, EV_MAKER, DISMANTLER, EVALUATOR, INSPECTOR, TRANSPORTER, STORAGE, DEVICE, DEVICE2 = (
    A[i].address for i in (10, 12, 13, 14, 15, 16, 17, 19, 20))
MODEL_NAME = "KR:KCELL:NCM811-E-POUCH-78AH"
SINGLE, IMPORTED = "KR:KCELL:EV:0000001", "KR:KCELL:EV:1000001"

#: Commands the README shows for completeness that the chain refuses at this point of the story, with the reason.
REFUSED = {
    # removal needs an evaluation first (the oracle records one further down)
    "battery status KR:KCELL:EV:0000001 removed": "EvaluationRequired(batteryId=0x",
    # the other steps belong to other roles and other states than an EV maker's battery in service
    "battery status KR:KCELL:EV:0000001 reused": f"RegistryMissingRole(account={EV_MAKER}",
    "battery status KR:KCELL:EV:0000001 waste": "PassportInvalidTransition(batteryId=0x",
    "battery status KR:KCELL:EV:0000001 recycled": f"RegistryMissingRole(account={EV_MAKER}",
    "eval show KR:KCELL:EV:0000001": "KR:KCELL:EV:0000001 has no evaluation",
    # a storage site takes in only batteries in its operator's custody (the EV maker still has this one)
    "storage intake SITE-1 KR:KCELL:EV:0000001": "StorageNotCustodian(batteryId=0x",
    "storage release SITE-1 KR:KCELL:EV:0000001": "StorageNotStored(batteryId=0x",
}
#: The README's second ``governance execute`` comes "after the delay" (2 days); run at once, it says how long to wait.
SECOND_EXECUTE = "the delay runs until"


def readme_commands() -> list[str]:
    """Every ``bledger`` command line of the README's sh blocks (continuations joined, comments removed)."""
    text = README.read_text()
    commands: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        joined = re.sub(r"\\\n\s*", "", block)
        lines = joined.split("\n")
        merged: list[str] = []
        for line in lines:
            if line.lstrip().startswith("| ") and merged:  # a continued list of alternatives
                merged[-1] += " " + line.strip()
            else:
                merged.append(line)
        for line in merged:
            line = re.sub(r"\s+#.*$", "", line)
            line = re.sub(r"\s+\(each with --key\)$", "", line).strip()
            if line.startswith("bledger "):
                commands.extend(_alternatives(line))
    return commands


def _alternatives(line: str) -> list[str]:
    """``bledger storage site S 500 | intake S ID 60`` -> one command per alternative."""
    parts = [p.strip() for p in line.split(" | ")]
    words = parts[0].split()
    out = [parts[0]]
    for alt in parts[1:]:
        # ``storage site … | intake …``: another subcommand of the group;
        # ``status ID step … | removed``: another step
        if words[1] == "storage":
            out.append(f"bledger {words[1]} {alt}")
        elif words[1] == "governance":  # ``propose scope … | custody-model …``: another proposal
            out.append(" ".join(words[:3]) + " " + alt)
        else:
            out.append(" ".join(words[:4]) + " " + alt)
    return out


def _optional(match: re.Match[str]) -> str:
    inner = match.group(1)
    if "…" in inner or " " not in inner.strip():  # a bare flag (--revoke, --failed) or an open list: left out
        return ""
    return inner


def concrete(command: str, values: dict[str, str]) -> list[str]:
    text = re.sub(r"\[([^\]]*)\]", _optional, command)
    words = []
    for word in text.split()[1:]:
        word = word.split("|")[0] if "|" in word else word
        words.append(values.get(word, word))
    return words


@pytest.fixture
def story(anvil_node: AnvilNode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BLEDGER_RPC", anvil_node.url)
    for name in ("BLEDGER_KEY", "BLEDGER_DEPLOYMENT", "BLEDGER_DATA", "BLEDGER_RELAYER"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "FILE").write_text("evidence")
    readme = README.read_text()
    # the data sheet is the full example the README names
    assert "chain_client/batterypass/examples/model-ev-ncm811.json" in readme
    shutil.copy(EXAMPLES / "model-ev-ncm811.json", tmp_path / "DATA_SHEET.json")
    claim = re.search(r"```json\n(\{\"batteryModel\"[^`]*?\"allocations\".*?)```", readme, re.S)
    assert claim is not None
    (tmp_path / "CLAIM.json").write_text(claim.group(1).replace('"0x…"', '"0x' + "ab" * 32 + '"'))
    (tmp_path / "bom-2026h1.pdf").write_text("bill of materials")
    rows = "".join(f"KR:KCELL:EV:{1_000_000 + i},{MODEL_NAME}\n" for i in range(1, 101))
    (tmp_path / "FILE.csv").write_text("batteryPassportIdentifier,batteryModel\n" + rows)
    (tmp_path / "DIR").mkdir()
    return tmp_path


def _ledger(url: str) -> tuple[Ledger, TxSender]:
    backend = RpcBackend(url)
    sender = TxSender(backend.w3)
    return Ledger(backend.w3, Deployment.load(Path("deployment.json")), sender), sender


def setup_parties(url: str) -> None:
    """What the story needs beyond the README's own commands: the other parties registered."""
    ledger, _ = _ledger(url)
    reg = ledger.registry
    by = {a.address: a for a in A}
    # the EV maker operates the battery: its contact record is published beside its registration (the export shows it)
    with PassportDocuments(Path("bledger-data")) as docs:
        docs.publish_contact(EV_MAKER, contact_of("ev_maker"))
    reg.register(by[MOLIT], EV_MAKER, [BusinessRole.EV_MAKER], contact_of("ev_maker").profile_hash())
    for authority, account, role in (
            (MOTIE, CELL_MAKER, BusinessRole.CELL_MAKER), (MOE, SPARE, BusinessRole.RECYCLER),
            (MOE, DISMANTLER, BusinessRole.COLLECTOR_DISMANTLER),
            (MOLIT, EVALUATOR, BusinessRole.EVALUATOR), (MOTIE, INSPECTOR, BusinessRole.INSPECTION_BODY),
            (MOE, TRANSPORTER, BusinessRole.TRANSPORTER), (MOE, STORAGE, BusinessRole.STORAGE_OPERATOR)):
        reg.register(by[authority], account, [role])


def more_lots(url: str) -> None:
    """Lots 2-4 for the README's claim file (it allocates from lots 1 and 4): lot 4 is nickel the cell maker holds."""
    ledger, _ = _ledger(url)
    c = ledger.certificates
    lot1 = c.lot(1)
    from chain_client.certificates import LotApplication
    from chain_client.vocabulary import Feedstock, Material, short_string
    recycler, moe = A[4], A[1]
    for material in (Material.COBALT, Material.LITHIUM, Material.NICKEL):
        lot = c.apply(recycler, LotApplication(material, Feedstock.POST_CONSUMER, 300_000, short_string("x"),
                                               identifier("PLANT-1"), parse_time("2026-01-01"),
                                               parse_time("2026-03-31")))
        c.certify(moe, lot)
    c.transfer(recycler, 4, CELL_MAKER, 250_000, identifier("SHIP-4"))
    assert lot1.mass_grams == 90_000


def _contract(name: str) -> str:
    return str(json.loads(Path("deployment.json").read_text())["contracts"][name])


def key_for(words: list[str]) -> str:
    group, sub = words[0], words[1] if len(words) > 1 else ""
    keys = {
        ("registry", "register"): "dev:1", ("registry", "status"): "dev:1", ("registry", "facility"): "dev:1",
        ("registry", "grant-authority"): "dev:0", ("cert", "apply"): "dev:4", ("cert", "decide"): "dev:1",
        ("cert", "transfer"): "dev:4", ("claim", "open"): "dev:5", ("claim", "decide"): "dev:2",
        ("eval", "device"): "dev:14", ("eval", "policy"): "dev:0", ("inspect", "record"): "dev:15",
        ("transport", "ship"): "dev:16", ("storage", "site"): "dev:17", ("storage", "intake"): "dev:17",
        ("storage", "release"): "dev:17", ("battery", "prefix"): "dev:2",
    }
    if group == "governance":
        return "dev:1"  # a ministry on the committee (MoE)
    if group == "battery" and (group, sub) not in keys:
        if sub == "transfer":
            return "dev:5"
        if sub == "status":
            return "dev:12"
        return "dev:5"
    return keys.get((group, sub), "dev:0")


def values_for(words: list[str], url: str) -> dict[str, str]:
    group, sub = words[1], words[2] if len(words) > 2 else ""
    v = {"URL": url, "K": "dev:0", "FILE.csv": "FILE.csv", "CLAIM": "1", "LOT": "1", "GRAMS": "60000",
         "REF": "SHIP-1", "MODEL": MODEL_NAME, "VIN": "KMHXX00XXXX000001", "NEW_ID": "KR:NEW:1",
         "SITE": "SITE-1", "N": "0", "D": "2026-05-01", "P": "KR-KCELL-OCHANG-02", "ID": SINGLE, "ADDR": RECYCLER,
         "ADDRESS": DEVICE, "OPERATOR": RECYCLER,
         "FROM": "2025-01-01", "UNTIL": "2027-12-31", "TO": CELL_MAKER}
    if group == "registry" and sub == "facility":
        v["ID"] = "PLANT-1"
    if group == "registry" and sub == "status":
        v["ADDR"] = SPARE
    if group == "registry" and sub == "grant-authority":
        v["ADDR"] = MOE
    if group == "cert" and sub == "apply":
        v["ID"] = "PLANT-1"
    if group == "cert" and sub == "show":
        v["ADDR"] = CELL_MAKER
    if group == "battery" and sub == "transfer":
        v["TO"] = EV_MAKER
    if group == "battery" and sub in ("prove",):
        v["ID"] = IMPORTED
    if group == "battery" and sub in ("index", "prefix"):
        v["ADDR"] = CELL_MAKER
    if group == "eval" and sub == "device":
        v["K"] = "dev:19"
        if "--proof" in words or "--revoke" in words:  # a second device: its proof made apart, then revoked
            v["ADDRESS"] = DEVICE2
            v["SIG"] = "0x" + sign_device_registration(A[20], EVALUATOR, 31337, _contract("PerformanceEvaluations"))\
                .hex()
    if group == "transport":
        v["FROM"], v["TO"] = EV_MAKER, DISMANTLER
    if group == "governance":
        # ADDR: an account that is no business (an authority cannot be one)
        v.update({"MOE_KEY": "dev:1", "MOTIE_KEY": "dev:2", "MOLIT_KEY": "dev:3", "K": "dev:1", "ADDR": A[25].address,
                  "EVAL": _contract("PerformanceEvaluations"), "INSP": _contract("SafetyInspections")})
    if group == "battery" and sub == "export":
        v["DIR"] = "export"  # not the folder the oracle watches
    if group == "oracle":
        v["K"] = "dev:19"
        v["FILE"] = "readings.csv"
    return v


def test_every_readme_command_runs_as_written(story: Path, anvil_node: AnvilNode) -> None:
    runner = CliRunner()
    commands = readme_commands()
    # the claim on a battery model comes after the model is registered (the README groups commands by topic)
    claims = [c for c in commands if c.startswith("bledger claim ")]
    commands = [c for c in commands if c not in claims]
    at = next(i for i, c in enumerate(commands) if c.startswith("bledger battery model")) + 1
    commands[at:at] = claims
    assert len(commands) >= 40, commands
    hooks: dict[str, Callable[[str], None]] = {"registry register": setup_parties, "claim open": more_lots}
    ran: list[str] = []
    proposal = "0x1a2b"
    for command in commands:
        words = command.split()
        if words[1] in ("build", "demo"):
            continue  # compiling and the embedded demo have their own tests (test_build, test_cli)
        if "$" in command:  # the offline verifier's walkthrough on the demo's node (tests/test_proofs.py runs it)
            continue
        args = concrete(command, values_for(words, anvil_node.url))
        args = [proposal if a == "0x1a2b" else a for a in args]  # the README's proposal id: the one proposed here
        if args[:2] == ["oracle", "submit"]:
            (story / "readings.csv").write_text(
                "batteryPassportIdentifier,stateOfHealth,remainingCapacity,internalResistanceIncrease,cycleCount,"
                f"faultFlags,measuredAt\n{SINGLE},82.5,61.2,12.5,840,,2026-11-20T09:00:00\n")
        if "--warranty-until" in args:  # the README's D for both dates: the warranty ends after manufacture
            args[args.index("--warranty-until") + 1] = "2034-05-01"
        if args[:2] == ["oracle", "watch"]:
            args += ["--rounds", "1", "--min-age", "0"]  # the README's watch runs until Ctrl-C
        hook = hooks.pop(" ".join(args[:2]), None)
        if hook is not None:
            hook(anvil_node.url)
        env = {"BLEDGER_KEY": key_for(args)} if args[0] != "deploy" else {}
        if args[0] == "oracle":
            env["BLEDGER_RELAYER"] = "dev:0"  # the README's watch and reconcile take the relayer from the environment
        if args[0] == "deploy":
            i = args.index("--moe")
            args[i + 1], args[i + 3], args[i + 5] = MOE, MOTIE, MOLIT
        result = runner.invoke(app_(), args, env=env)
        shown = " ".join(args)
        assert "Traceback" not in result.output, f"bledger {shown}:\n{result.output}"
        expected = next((why for start, why in REFUSED.items() if shown.startswith(start)), None)
        if args[:2] == ["governance", "execute"]:
            expected = SECOND_EXECUTE if any(r.startswith("governance execute") for r in ran) else None
        if expected is None:
            assert result.exit_code == 0, f"bledger {shown} failed:\n{result.output}"
        else:
            assert result.exit_code == 1 and expected in result.output, f"bledger {shown}:\n{result.output}"
        ran.append(shown)
        found = re.search(r"0x[0-9a-f]{64}", result.output)
        if args[:3] == ["governance", "propose", "soc-limit"] and found:
            proposal = found.group(0)[:10]

    assert any(r.startswith("transport ship") and "--packaging 965" in r for r in ran)
    data = json.loads((story / "deployment.json").read_text())
    assert data["blockHash"].startswith("0x")


def app_():  # type: ignore[no-untyped-def]
    from chain_client.cli import app

    return app
