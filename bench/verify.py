"""Offline verification: proving time per battery (the library call the API makes, against anvil), bundle size, the
Python verifier's time per bundle (median over many bundles, goal < 20 ms) and the browser verifier's time in
Debian's Chromium (goal < 200 ms)."""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from eth_hash.auto import keccak

from rich.console import Console
from rich.table import Table

from chain_client.anvil import AnvilNode
from chain_client.backends import RpcBackend
from chain_client.build import PROJECT_ROOT
from chain_client.proofs import battery_bundle, bundle_bytes, trust_anchors
from chain_client.verification_demo import build_scenario
from chain_client.verifier import load_trust, verify_bundle

PAGE = PROJECT_ROOT / "web" / "verify" / "index.html"
CHROMIUM = Path("/usr/bin/chromium")


def _browser_times(bundle: bytes, trust: str, runs: int) -> tuple[float, float] | None:
    """(first verification through the page's file input, median of ``runs`` more in the same page), in ms."""
    if not CHROMIUM.is_file():
        return None
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        (Path(tmp) / "bundle.json").write_bytes(bundle)
        (Path(tmp) / "trust.json").write_text(trust)
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"], headless=True)
        try:
            page = browser.new_page()
            page.goto(PAGE.as_uri())
            page.set_input_files("#trust-file", str(Path(tmp) / "trust.json"))
            page.wait_for_function("document.getElementById('trust-status').textContent.includes('loaded')")
            page.set_input_files("#bundle-file", str(Path(tmp) / "bundle.json"))
            page.wait_for_selector("#verify-ms")
            first = float(page.text_content("#verify-ms") or "nan")
            times = page.evaluate(
                """([text, trust, runs]) => { const bytes = new TextEncoder().encode(text); const out = [];
                for (let i = 0; i < runs; i++) { const t = performance.now();
                  const v = BatteryLedgerVerifier.verifyBundle(bytes, trust); out.push(performance.now() - t);
                  if (!v.ok) throw new Error(v.failure); } return out; }""",
                [bundle.decode(), trust, runs])
        finally:
            browser.close()
    return first, statistics.median(times)


def _pinned(base: dict[str, Any], bundle: bytes) -> dict[str, Any]:
    header = bytes.fromhex(json.loads(bundle)["header"][2:])
    return base | {"anchor": {"type": "block", "hash": "0x" + keccak(header).hex()}}


def run(console: Console, bundles: int = 1_000, verifications: int = 1_000) -> None:
    with AnvilNode() as node:
        backend = RpcBackend(node.url)
        start = time.perf_counter()
        scenario = build_scenario(backend, batteries=bundles)
        setup = time.perf_counter() - start
        w3, dep = backend.w3, scenario.deployment
        made: list[bytes] = []
        prove_ms: list[float] = []
        for identifier in scenario.batteries:
            t = time.perf_counter()
            made.append(bundle_bytes(battery_bundle(w3, dep, identifier, scenario.batteries, scenario.claim_id)))
            prove_ms.append((time.perf_counter() - t) * 1000)
        trust_json = json.dumps(trust_anchors(w3, dep, json.loads(made[-1])))
    # every bundle was made at its own block: each is checked against a trust file pinning that block's hash
    base = json.loads(trust_json)
    pinned = [_pinned(base, data) for data in made]
    trusts = [load_trust(json.dumps(t).encode()) for t in pinned]
    verify_ms = []
    for i in range(verifications):
        data, trust = made[i % len(made)], trusts[i % len(made)]
        t = time.perf_counter()
        verdict = verify_bundle(data, trust)
        verify_ms.append((time.perf_counter() - t) * 1000)
        if not verdict.ok:
            raise AssertionError(verdict.failure)
    sizes = [len(b) for b in made]
    browser = _browser_times(made[0], json.dumps(pinned[0]), 50)

    table = Table(title=f"Offline verification: {len(made):,} battery bundles from anvil "
                        f"(scenario set up in {setup:.1f} s)")
    for col in ("measure", "median", "p95 / range", "anchor"):
        table.add_column(col, justify="right")
    table.add_row("prove one battery (library call of the API, anvil)", f"{statistics.median(prove_ms):.1f} ms",
                  f"{sorted(prove_ms)[int(len(prove_ms) * 0.95) - 1]:.1f} ms", "-")
    table.add_row("bundle size", f"{statistics.median(sizes):,.0f} B", f"{min(sizes):,}-{max(sizes):,} B", "-")
    table.add_row(f"verify in Python ({verifications:,} verifications)", f"{statistics.median(verify_ms):.2f} ms",
                  f"{sorted(verify_ms)[int(len(verify_ms) * 0.95) - 1]:.2f} ms", "goal < 20 ms")
    if browser is None:
        table.add_row("verify in Chromium", "skipped", "(no /usr/bin/chromium)", "goal < 200 ms")
    else:
        table.add_row("verify in Chromium, first (page file input, cold)", f"{browser[0]:.1f} ms", "-", "goal < 200 ms")
        table.add_row("verify in Chromium, warm (median of 50)", f"{browser[1]:.1f} ms", "-", "goal < 200 ms")
    console.print(table)
