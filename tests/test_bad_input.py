"""No traceback reaches a user: a table of bad inputs, each run through the CLI against anvil, each answered by one
clear ``error:`` line (exit code 1) that names the problem, and nothing written on chain."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chain_client.anvil import AnvilNode, free_port
from chain_client.cli import app
from chain_client.keys import dev_accounts

runner = CliRunner()
ACCOUNTS = [a.address for a in dev_accounts(10)]
GOV, MOE, MOTIE, MOLIT, RECYCLER, CELL_MAKER, TRANSPORTER = ACCOUNTS[:7]
EVALUATOR, DEVICE = ACCOUNTS[8], ACCOUNTS[9]
MODEL_NAME = "KR:B:KC-78AH"


@dataclass
class Setup:
    url: str
    folder: Path
    deployment: Path
    data: Path

    def common(self) -> list[str]:
        return ["--rpc", self.url, "--deployment", str(self.deployment)]


def ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, f"bledger {' '.join(args)} failed:\n{result.output}"
    return result.output


def refused(*args: str, code: int = 1) -> str:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == code, f"bledger {' '.join(args)} gave {result.exit_code}:\n{result.output}"
    return " ".join(result.output.split())


@pytest.fixture(scope="module")
def setup(anvil_node: AnvilNode, tmp_path_factory: pytest.TempPathFactory) -> Setup:
    folder = tmp_path_factory.mktemp("bad-input")
    s = Setup(anvil_node.url, folder, folder / "deployment.json", folder / "data")
    ok("deploy", "--rpc", s.url, "--out", str(s.deployment), "--key", "dev:0", "--moe", MOE, "--motie", MOTIE,
       "--molit", MOLIT)
    ok("registry", "register", RECYCLER, "--role", "recycler", *s.common(), "--key", "dev:1")
    ok("registry", "register", CELL_MAKER, "--role", "cell_maker", *s.common(), "--key", "dev:2")
    ok("registry", "register", TRANSPORTER, "--role", "transporter", *s.common(), "--key", "dev:1")
    ok("registry", "facility", "PLANT-1", RECYCLER, "2025-01-01", "2027-12-31", *s.common(), "--key", "dev:1")
    ok("battery", "prefix", "KR:B", "--holder", CELL_MAKER, *s.common(), "--key", "dev:2")
    ok("registry", "register", EVALUATOR, "--role", "evaluator", *s.common(), "--key", "dev:3")
    ok("eval", "device", DEVICE, "--device-key", "dev:9", *s.common(), "--key", "dev:8")
    ok("battery", "model", str(_sheet(s, batteryModel=MODEL_NAME)), *s.common(), "--key", "dev:5", "--data",
       str(s.data))
    (folder / "folder").mkdir()
    return s


def apply_args(s: Setup, grams: str = "100000", *extra: str) -> list[str]:
    return ["cert", "apply", "--material", "Li", "--grams", grams, "--form", "Li2CO3", "--facility", "PLANT-1",
            "--period-start", "2026-01-01", "--period-end", "2026-03-31", *s.common(), "--key", "dev:4", *extra]


UINT128_MAX = 2**128 - 1
MINISTRIES = ["--moe", MOE, "--motie", MOTIE, "--molit", MOLIT]


@pytest.mark.parametrize(("case", "args", "message"), [
    ("missing evidence", lambda s: apply_args(s, "100000", "--evidence", str(s.folder / "nope.pdf")),
     "document {folder}/nope.pdf not found"),
    ("folder as evidence", lambda s: apply_args(s, "100000", "--evidence", str(s.folder / "folder")),
     "document {folder}/folder is not a regular file"),
    ("negative grams", lambda s: apply_args(s, "-5"), "massGrams -5 is out of range: the field is uint"),
    ("grams beyond uint128", lambda s: apply_args(s, str(2**128)),
     f"massGrams {2**128:,} is out of range: the field is uint128 (0 to {UINT128_MAX:,})"),
    ("address that is no address", lambda s: ["registry", "register", "0xnope", "--role", "recycler", *s.common(),
                                              "--key", "dev:1"],
     "account '0xnope' is not an address (0x followed by 40 hex digits)"),
    ("wrong EIP-55 checksum", lambda s: ["registry", "register", _bad_checksum(RECYCLER), "--role", "recycler",
                                         *s.common(), "--key", "dev:1"],
     "has a wrong EIP-55 checksum"),
    ("unknown status action", lambda s: ["registry", "status", "pause", RECYCLER, *s.common(), "--key", "dev:1"],
     "unknown action 'pause': use suspend, reinstate or revoke"),
    ("unknown role", lambda s: ["registry", "register", RECYCLER, "--role", "wizard", *s.common(), "--key", "dev:1"],
     "unknown role wizard"),
    ("soc infinite", lambda s: ["transport", "ship", "KR:B:1", RECYCLER, CELL_MAKER, "--soc", "inf", *s.common(),
                                "--key", "dev:6"], "--soc 'inf' is not a finite number"),
    ("soc nan", lambda s: ["transport", "ship", "KR:B:1", RECYCLER, CELL_MAKER, "--soc", "nan", *s.common(),
                           "--key", "dev:6"], "--soc 'nan' is not a finite number"),
    ("soc rounded", lambda s: ["transport", "ship", "KR:B:1", RECYCLER, CELL_MAKER, "--soc", "30.004", *s.common(),
                               "--key", "dev:6"], "--soc 30.004 has more than 2 decimals: it would have to be rounded"),
    ("soc above 100", lambda s: ["transport", "ship", "KR:B:1", RECYCLER, CELL_MAKER, "--soc", "130", *s.common(),
                                 "--key", "dev:6"], "--soc 130 is above the maximum 100"),
    ("packaging beyond uint16", lambda s: ["transport", "ship", "KR:B:1", RECYCLER, CELL_MAKER, "--soc", "28",
                                           "--packaging", "70000", *s.common(), "--key", "dev:6"],
     "packagingClass 70,000 is out of range: the field is uint16 (0 to 65,535)"),
    ("storage capacity rounded", lambda s: ["storage", "site", "SITE-1", "500.0001", *s.common(), "--key", "dev:6"],
     "capacity (kWh) 500.0001 has more than 3 decimals"),
    ("identifier the import refuses", lambda s: ["battery", "register", "kr:low:single", MODEL_NAME, *s.common(),
                                                 "--key", "dev:5", "--data", str(s.data)],
     "'kr:low:single' is not an ISO/IEC 15459-style identifier"),
    ("identifier with spaces", lambda s: ["battery", "register", "KR 배터리 1", MODEL_NAME, *s.common(), "--key",
                                          "dev:5", "--data", str(s.data)], "is not an ISO/IEC 15459-style identifier"),
    ("deployment without contracts", lambda s: ["registry", "show", RECYCLER, "--rpc", s.url, "--deployment",
                                                str(_file(s, "nocontracts.json", '{"chainId": 31337}'))],
     'nocontracts.json is not a deployment file: no "contracts" object'),
    ("deployment file that is a folder", lambda s: ["registry", "show", RECYCLER, "--rpc", s.url, "--deployment",
                                                    str(s.folder / "folder")], "deployment file"),
    ("keystore {}", lambda s: ["registry", "register", RECYCLER, "--role", "recycler", *s.common(), "--key",
                               f"keystore:{_file(s, 'key.json', '{}')}"], "keystore"),
    ("unreachable node on deploy", lambda s: ["deploy", "--rpc", f"http://127.0.0.1:{_closed_port()}", "--out",
                                              str(s.folder / "d2.json"), "--key", "dev:0", *MINISTRIES],
     "cannot reach the node at http://127.0.0.1:"),
    ("unwritable deployment output", lambda s: ["deploy", "--rpc", s.url, "--out", "/proc/nope/d.json", "--key",
                                                "dev:0", *MINISTRIES],
     "deployment file /proc/nope/d.json: folder /proc/nope does not exist"),
    ("missing import file", lambda s: ["battery", "import", str(s.folder / "none.csv"), *s.common(), "--key", "dev:5",
                                       "--data", str(s.data)], "import file {folder}/none.csv not found"),
    ("csv field over the line limit", lambda s: ["battery", "import", str(_file(
        s, "long.csv", "batteryPassportIdentifier,batteryModel\n" + "A" * 200_000 + ",M\n")), *s.common(), "--key",
        "dev:5", "--data", str(s.data)], "long.csv:2: line longer than 65,536 characters"),
    ("batch size zero", lambda s: ["battery", "import", str(_file(s, "one.csv", "batteryPassportIdentifier,"
                                                                   "batteryModel\nKR:X:1,M\n")), "--batch-size", "0",
                                   *s.common(), "--key", "dev:5", "--data", str(s.data)],
     "--batch-size must be at least 1"),
    ("oracle file missing", lambda s: ["oracle", "submit", str(s.folder / "none.csv"), *s.common(), "--device-key",
                                       "dev:9", "--relayer", "dev:0", "--state", str(s.folder / "o.sqlite")],
     "measurement file {folder}/none.csv not found"),
    ("claim grams as a string", lambda s: ["claim", "open", str(_claim(s, grams="10")), *s.common(), "--key",
                                           "dev:5"], "allocations.0.grams: Input should be a valid integer"),
    ("claim grams beyond uint128", lambda s: ["claim", "open", str(_claim(s, grams=2**130)), *s.common(), "--key",
                                              "dev:5"], "is out of range: the field is uint128"),
    ("claim with NaN", lambda s: ["claim", "open", str(_file(s, "nan.json", '{"batteryModel": NaN}')), *s.common(),
                                  "--key", "dev:5"], "NaN is not a JSON number"),
    ("model sheet with Infinity", lambda s: ["battery", "model", str(_file(s, "inf.json", json.dumps(
        {"batteryModel": "X", "ratedCapacity": "Infinity"}).replace('"Infinity"', "Infinity"))), *s.common(),
        "--key", "dev:5", "--data", str(s.data)], "Infinity is not a JSON number"),
    ("model sheet with a string number", lambda s: ["battery", "model", str(_sheet(s, batteryMass="1.05")),
                                                    *s.common(), "--key", "dev:5", "--data", str(s.data)],
     "batteryMass: Input should be a valid number"),
])
def test_bad_input_is_one_clear_error(setup: Setup, case: str, args: object, message: str) -> None:
    out = refused(*args(setup))  # type: ignore[operator]
    assert out.startswith("error:"), out
    assert message.format(folder=setup.folder) in out, out


def _file(s: Setup, name: str, text: str) -> Path:
    path = s.folder / name
    path.write_text(text)
    return path


def _claim(s: Setup, grams: object) -> Path:
    return _file(s, f"claim-{abs(hash(repr(grams)))}.json", json.dumps({
        "batteryModel": MODEL_NAME, "plant": "P", "periodStart": "2026-01-01", "periodEnd": "2026-06-30",
        "contentGrams": {"Li": 2**140}, "allocations": [{"lotId": 1, "grams": grams}]}))


def _sheet(s: Setup, **overrides: object) -> Path:
    """The package's example EV data sheet with ``overrides``."""
    from chain_client.model_data import EXAMPLES

    sheet = {**json.loads((EXAMPLES / "model-ev-ncm811.json").read_text()), "batteryModel": "KR:B:X", **overrides}
    return _file(s, f"sheet-{abs(hash(repr(overrides)))}.json", json.dumps(sheet))


def _bad_checksum(address: str) -> str:
    """The address with the case of its first letter flipped: mixed case with a wrong EIP-55 checksum."""
    i = next(i for i, c in enumerate(address) if i > 1 and c.isalpha())
    return address[:i] + address[i].swapcase() + address[i + 1:]


def _closed_port() -> int:
    return free_port()


def test_a_deployment_whose_addresses_hold_no_code_is_refused(setup: Setup, tmp_path: Path) -> None:
    """A reset chain (or another chain with the same id): the write is refused, nothing is printed as done."""
    data = json.loads(setup.deployment.read_text())
    data["contracts"] = {k: "0x" + f"{i + 1:040x}" for i, k in enumerate(data["contracts"])}
    fake = tmp_path / "reset.json"
    fake.write_text(json.dumps(data))
    out = refused("registry", "register", RECYCLER, "--role", "recycler", "--rpc", setup.url, "--deployment",
                  str(fake), "--key", "dev:1")
    assert "does not match this chain: no contract code at BatteryLedgerForwarder" in out
    assert "registered" not in out


def test_a_deployment_from_another_chain_with_the_same_id_is_refused(setup: Setup, tmp_path: Path) -> None:
    data = json.loads(setup.deployment.read_text())
    data["blockHash"] = "0x" + "ab" * 32
    fake = tmp_path / "other.json"
    fake.write_text(json.dumps(data))
    out = refused("registry", "show", RECYCLER, "--rpc", setup.url, "--deployment", str(fake))
    assert f"block {data['blockNumber']} has hash 0x" in out and "the deployment recorded 0xabab" in out


def test_a_hanging_node_is_one_clear_error_within_the_timeout(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        monkeypatch.setenv("BLEDGER_RPC_TIMEOUT", "1")
        out = refused("registry", "show", RECYCLER, "--rpc", f"http://127.0.0.1:{silent.getsockname()[1]}",
                      "--deployment", str(setup.deployment))
    assert "did not answer eth_chainId within 1 s (BLEDGER_RPC_TIMEOUT sets the limit)" in out


def test_a_damaged_index_names_the_file_and_the_rebuild(setup: Setup, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    index = data / "index.sqlite"
    db = sqlite3.connect(index)
    db.execute("CREATE TABLE filler (x BLOB)")
    db.executemany("INSERT INTO filler VALUES (?)", [(os.urandom(512),) for _ in range(200)])
    db.commit()
    db.close()
    raw = index.read_bytes()
    index.write_bytes(raw[: len(raw) // 2] + b"\x00" * 100)  # half-truncated, as a full disk leaves it
    for args in (["battery", "prove", "KR:X:1"], ["battery", "reconcile", "--key", "dev:5"]):
        out = refused(*args, *setup.common(), "--data", str(data))
        assert f"the battery index {index} is damaged" in out, out
        assert f"bledger battery index rebuild --data {data}" in out
    index.write_bytes(b"this is not a database at all" * 10)
    out = refused("battery", "prove", "KR:X:1", *setup.common(), "--data", str(data))
    assert f"the battery index {index} is damaged (file is not a database)" in out


def test_csv_with_a_byte_order_mark_is_read(setup: Setup) -> None:
    path = setup.folder / "bom.csv"
    path.write_bytes(f"\ufeffbatteryPassportIdentifier,batteryModel\nKR:B:BOM-1,{MODEL_NAME}\n".encode())
    out = ok("battery", "import", str(path), *setup.common(), "--key", "dev:5", "--data", str(setup.data))
    assert "1 batteries in 1 batches anchored" in out


def test_output_is_neither_emoji_nor_wrapped_nor_cut(setup: Setup) -> None:
    out = ok("battery", "register", "KR:B:1", MODEL_NAME, *setup.common(), "--key", "dev:5", "--data",
             str(setup.data))
    assert "battery KR:B:1 registered" in out  # not an emoji for :B:
    long_name = "KR-" + "X" * 150
    result = runner.invoke(app, ["registry", "show", long_name, *setup.common()])
    assert result.exit_code == 1 and result.output.count("\n") == 1  # one line, however long


def test_a_keystore_that_is_no_keystore_is_one_clear_error(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _file(setup, "empty-keystore.json", "{}")
    path.chmod(0o600)
    monkeypatch.setenv("BLEDGER_KEY_PASSWORD", "secret")
    out = refused("registry", "register", RECYCLER, "--role", "recycler", *setup.common(), "--key", f"keystore:{path}")
    assert f"cannot decrypt keystore {path}: wrong password or damaged file" in out
