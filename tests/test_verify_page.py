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
from tests.vectors import (
    Vectors,
    credential_vectors,
    python_verdict,
    write_credential_vectors,
    write_vectors,
)

PAGE = PROJECT_ROOT / "web" / "verify"
CHROMIUM = Path("/usr/bin/chromium")
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
    if not CHROMIUM.is_file():
        pytest.skip("Debian's chromium is not installed (scripts/setup installs it)")
    from playwright.sync_api import sync_playwright

    write_vectors(proof_vectors, tmp_path)
    python = _python_verdicts(proof_vectors)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"], headless=True)
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
