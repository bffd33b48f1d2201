"""The browser verifier gives the Python verifier's verdicts on the shared test vectors: the bundled script under
Node for every vector, and the page itself in a real Chromium (Debian's, driven by Playwright) for a few, with a
screenshot kept as a test artifact. The committed bundle is what esbuild makes of the sources."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from chain_client.build import NODE_MODULES, PROJECT_ROOT
from chain_client.verifier import load_trust
from chain_client.credential_check import verify_credential
from tests.helpers import chromium
from tests.vectors import (
    Vectors,
    credential_vectors,
    python_verdict,
    write_credential_vectors,
    write_vectors,
)

PAGE = PROJECT_ROOT / "web" / "verify"
ARTIFACTS = Path(os.environ.get("BLEDGER_TEST_ARTIFACTS", PROJECT_ROOT / "build" / "test-artifacts"))


def _python_verdicts(vectors: Vectors) -> dict[str, dict[str, object]]:
    out = {}
    for v in vectors.items.values():
        out[v.name] = python_verdict(v.bundle, v.trust_bytes)
    for name, jwt, trust, status in credential_vectors(vectors):
        verdict = verify_credential(jwt, load_trust(trust), status)
        out[f"credential:{name}"] = json.loads(json.dumps(verdict.as_dict()))
    return out


def test_committed_bundle_is_built_from_the_sources(tmp_path: Path) -> None:
    out = tmp_path / "verifier.bundle.js"
    script = json.loads((PROJECT_ROOT / "package.json").read_text())["scripts"]["build:verify"]
    args = script.split()[1:]
    args = [a if not a.startswith("--outfile=") else f"--outfile={out}" for a in args]
    subprocess.run([str(NODE_MODULES / ".bin" / "esbuild"), *args], cwd=PROJECT_ROOT, check=True,
                   capture_output=True, timeout=120)
    assert out.read_bytes() == (PAGE / "verifier.bundle.js").read_bytes(), \
        "web/verify/verifier.bundle.js is stale: run `npm run build:verify` and commit it"


def test_node_gives_identical_verdicts(proof_vectors: Vectors, tmp_path: Path) -> None:
    write_vectors(proof_vectors, tmp_path)
    write_credential_vectors(proof_vectors, tmp_path)
    node = shutil.which("node")
    assert node, "node is needed"
    result = subprocess.run([node, str(PAGE / "tools" / "run-vectors.cjs"), str(tmp_path)], capture_output=True,
                            text=True, timeout=120, check=True)
    js = json.loads(result.stdout)
    python = _python_verdicts(proof_vectors)
    assert sorted(js) == sorted(python)
    for name in python:
        assert js[name] == python[name], name
    assert js["battery-valid"]["ok"] is True and js["battery-tainted"]["ok"] is False
    assert js["credential:lot-status"]["ok"] is True and js["credential:lot-revoked"]["status"] == "revoked"
    assert js["credential:claim-tainted"]["status"] == "tainted"
    assert sorted(n for n, v in js.items() if n.startswith("credential:") and v["ok"]) == [
        "credential:claim", "credential:lot", "credential:lot-before-revocation", "credential:lot-status"]


def test_page_in_chromium(proof_vectors: Vectors, tmp_path: Path) -> None:
    browser_path = chromium()
    from playwright.sync_api import sync_playwright

    write_vectors(proof_vectors, tmp_path)
    python = _python_verdicts(proof_vectors)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(browser_path), args=["--no-sandbox"], headless=True)
        try:
            page = browser.new_page()
            page.goto((PAGE / "index.html").as_uri())
            for name in ("battery-valid", "battery-tainted", "header-byte", "storage-value"):
                page.set_input_files("#trust-file", str(tmp_path / f"{name}.trust.json"))
                page.wait_for_function("document.getElementById('trust-status').textContent.includes('loaded')")
                page.evaluate("document.getElementById('verdict-json').textContent = ''")
                page.set_input_files("#bundle-file", str(tmp_path / f"{name}.bundle.json"))
                page.wait_for_function("document.getElementById('verdict-json').textContent.length > 0")
                shown = json.loads(page.text_content("#verdict-json") or "")
                assert shown == python[name], name
                heading = page.text_content("#verdict h2")
                assert heading == ("VERIFIED" if python[name]["ok"] else "FAILED"), name
                if name == "battery-valid":
                    assert "EU 2031" in (page.text_content("#verdict") or "")
                    page.screenshot(path=str(ARTIFACTS / "verify-page.png"), full_page=True)
                page.evaluate("document.getElementById('trust-status').textContent = ''")
            # a credential, its status checked against the bundle loaded last (the tainted claim's)
            write_credential_vectors(proof_vectors, tmp_path)
            page.set_input_files("#trust-file", str(tmp_path / "claim-tainted.cred-trust.json"))
            page.wait_for_function("document.getElementById('trust-status').textContent.includes('loaded')")
            page.set_input_files("#bundle-file", str(tmp_path / "claim-tainted.cred-status.json"))
            page.wait_for_selector("#verify-ms")
            page.set_input_files("#credential-file", str(tmp_path / "claim-tainted.cred.jwt"))
            page.wait_for_function("document.getElementById('verdict-json').textContent.includes('recordId')")
            shown = json.loads(page.text_content("#verdict-json") or "")
            assert shown == python["credential:claim-tainted"]
        finally:
            browser.close()
    assert (ARTIFACTS / "verify-page.png").stat().st_size > 10_000


def test_fuzzed_bundles_get_identical_verdicts(proof_vectors: Vectors, tmp_path: Path) -> None:
    """300 random damages (a byte replaced, some bytes cut) of a valid bundle: both verifiers fail each one, with the
    same message."""
    import base64
    import random

    valid = proof_vectors.items["battery-in-batch"]
    rng = random.Random(2031)
    cases: list[bytes] = []
    while len(cases) < 300:
        d = bytearray(valid.bundle)
        pos = rng.randrange(len(d))
        d[pos] = rng.choice(b"0123456789abcdefABx\" {}[]:,-.\n\x80")
        if rng.random() < 0.2:
            cut = rng.randrange(len(d))
            del d[cut:cut + rng.randrange(1, 40)]
        if bytes(d) != valid.bundle:
            cases.append(bytes(d))
    (tmp_path / "cases.json").write_text(json.dumps({"trust": valid.trust_bytes.decode(),
                                                     "cases": [base64.b64encode(c).decode() for c in cases]}))
    script = ("const fs=require('fs');const c=fs.readFileSync(process.argv[1],'utf8');"
              "const v=new Function(c+';return BatteryLedgerVerifier;')();const d=JSON.parse(fs.readFileSync("
              "process.argv[2],'utf8'));process.stdout.write(JSON.stringify(d.cases.map(x=>v.verifyBundle("
              "new Uint8Array(Buffer.from(x,'base64')),d.trust))))")
    node = shutil.which("node")
    assert node
    out = subprocess.run([node, "-e", script, str(PAGE / "verifier.bundle.js"), str(tmp_path / "cases.json")],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    js = json.loads(out)
    for case, browser in zip(cases, js, strict=True):
        python = python_verdict(case, valid.trust_bytes)
        assert not python["ok"]
        assert browser == python
