"""What an EU importer opens from a QR label, without an account: the public passport page, the proof bundle the
offline verifier checks, and the verification page. The demo story runs on a real node (anvil serves
``eth_getProof``) and leaves its battery data folder to the API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient

from api.app import create_app
from api.chain import ChainContext
from api.settings import Settings
from chain_client.anvil import AnvilNode
from chain_client.backends import RpcBackend
from chain_client.credentials import claim_credential, lot_credential, sign_jwt
from chain_client.demo import PARTIES, run_demo
from chain_client.passport_ids import to_urn
from chain_client.proofs import trust_anchors
from chain_client.verifier import load_trust, verify_bundle
from tests.helpers import chromium

SERIAL = "KR:KCELL:EV:0000002"  # a demo battery in service, covered by the attested claim


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, RpcBackend, ChainContext]]:
    tmp = tmp_path_factory.mktemp("portal")
    with AnvilNode() as node:
        backend = RpcBackend(node.url)
        result = run_demo(backend, None, data=tmp / "data", revoke=False)
        assert result.deployment is not None
        chain = ChainContext(backend.w3, result.deployment, backend.funded_accounts(5)[4])
        settings = Settings(database_url=f"sqlite:///{tmp / 'api.db'}", document_dir=tmp / "documents",
                            data_dir=tmp / "data")
        with TestClient(create_app(settings, chain), raise_server_exceptions=False) as client:
            yield client, backend, chain


def test_the_proof_bundle_verifies_offline(portal: tuple[TestClient, RpcBackend, ChainContext]) -> None:
    client, backend, chain = portal
    r = client.get(f"/v1/public/batteries/{SERIAL}/proof")
    assert r.status_code == 200, r.text
    bundle = r.content
    trust = trust_anchors(backend.w3, chain.deployment, json.loads(bundle))
    verdict = verify_bundle(bundle, load_trust(json.dumps(trust).encode()))
    assert verdict.ok, verdict.failure
    # the URN form (what the QR label carries) names the same battery
    assert client.get(f"/v1/public/batteries/{to_urn(SERIAL)}/proof").status_code == 200
    missing = client.get("/v1/public/batteries/KR:KCELL:EV:9999999/proof")
    assert missing.status_code == 404 and missing.json()["type"].endswith("no-proof")


def test_the_public_passport_page_and_the_verification_page(
        portal: tuple[TestClient, RpcBackend, ChainContext]) -> None:
    client, _, _ = portal
    page = client.get(f"/p/{SERIAL}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert SERIAL in page.text and "/verify?battery=" in page.text
    assert "VIN" not in page.text.upper().replace("VINYL", "")  # restricted data never on the public page
    assert client.get("/p/KR:KCELL:EV:9999999").status_code == 404
    verify = client.get("/verify/")
    assert verify.status_code == 200 and "verifier.bundle.js" in verify.text
    assert client.get("/verify/verifier.bundle.js").status_code == 200
    context = client.get("/credentials/v1")
    assert context.status_code == 200 and "@context" in context.text


def test_the_passport_page_names_the_battery_by_its_urn(portal: tuple[TestClient, RpcBackend, ChainContext]) -> None:
    client, _, _ = portal
    assert client.get(f"/p/{to_urn(SERIAL)}").status_code == 200
    assert client.get("/p/urn:bledger:%21%21").status_code == 404


def test_data_dir_is_a_setting() -> None:
    assert Settings().data_dir == Path("bledger-data")


def _sign_in(client: TestClient, account: LocalAccount) -> dict[str, str]:
    message = client.post("/v1/auth/challenge", json={"address": account.address}).json()["message"]
    signature = account.sign_message(encode_defunct(text=message)).signature.to_0x_hex()
    token = client.post("/v1/auth/sign-in", json={"message": message, "signature": signature}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_a_ministry_publishes_a_credential_anyone_can_fetch(portal: tuple[TestClient, RpcBackend, ChainContext]
                                                            ) -> None:
    client, backend, chain = portal
    parties = dict(zip(PARTIES, backend.funded_accounts(len(PARTIES)), strict=True))
    moe, motie = parties["moe"], parties["motie"]
    jwt = sign_jwt(lot_credential(chain.ledger, 1, moe), moe)
    assert client.get("/v1/public/lots/1/credential").status_code == 404
    # only a ministry, only its own signature, only a valid credential
    r = client.post("/v1/credentials", json={"credential": jwt}, headers=_sign_in(client, parties["recycler"]))
    assert r.status_code == 403 and r.json()["type"].endswith("missing-authority")
    r = client.post("/v1/credentials", json={"credential": jwt}, headers=_sign_in(client, motie))
    assert r.status_code == 403 and r.json()["type"].endswith("not-the-issuer")
    forged = jwt[:-4] + ("AAAA" if not jwt.endswith("AAAA") else "BBBB")
    r = client.post("/v1/credentials", json={"credential": forged}, headers=_sign_in(client, moe))
    assert r.status_code == 422 and r.json()["type"].endswith("invalid-credential")
    r = client.post("/v1/credentials", json={"credential": jwt}, headers=_sign_in(client, moe))
    assert r.status_code == 200 and r.json() == {"kind": "lot", "record_id": 1, "issuer": moe.address.lower()}
    published = client.get("/v1/public/lots/1/credential")
    assert published.status_code == 200 and published.text == jwt
    assert published.headers["content-type"].startswith("application/vc+jwt")
    claim_jwt = sign_jwt(claim_credential(chain.ledger, 1, motie), motie)
    assert client.post("/v1/credentials", json={"credential": claim_jwt},
                       headers=_sign_in(client, motie)).status_code == 200
    assert client.get("/v1/public/claims/1/credential").text == claim_jwt


def test_the_portal_connects_to_several_nodes_and_fails_over(portal: tuple[TestClient, RpcBackend, ChainContext]
                                                             ) -> None:
    from chain_client.errors import LedgerError
    _, backend, chain = portal
    dead = "http://127.0.0.1:9"  # discard port: nothing answers
    ctx = ChainContext.connect([dead, backend.url], chain.deployment, "dev:4")
    assert ctx.ledger.claims.claim_count() == 1  # read through the node that answers
    with pytest.raises(LedgerError, match="no node answered"):
        ChainContext.connect([dead], chain.deployment, "dev:4")
    from dataclasses import replace
    with pytest.raises(LedgerError, match="the deployment is for chain 1"):
        ChainContext.connect([backend.url], replace(chain.deployment, chain_id=1), "dev:4")


def test_statistics_and_the_dashboard_page(portal: tuple[TestClient, RpcBackend, ChainContext]) -> None:
    client, backend, _ = portal
    public = client.get("/v1/public/statistics")
    assert public.status_code == 200, public.text
    stats = public.json()
    assert stats["tier"] == "public" and stats["declarations"] == [] and stats["signals"] == []
    assert stats["batteries_by_status"] and stats["trade_volume"]
    parties = dict(zip(PARTIES, backend.funded_accounts(len(PARTIES)), strict=True))
    assert client.get("/v1/statistics").status_code == 401
    r = client.get("/v1/statistics", headers=_sign_in(client, parties["recycler"]))
    assert r.status_code == 403
    full = client.get("/v1/statistics", headers=_sign_in(client, parties["moe"])).json()
    assert full["tier"] == "authority" and full["declarations"] and full["signals"]
    page = client.get("/dashboard")
    assert page.status_code == 200 and page.text.count("<svg") >= 4 and "Price index" in page.text
    assert "withheld" in page.text  # a cell below k is never shown


def test_the_dashboard_and_passport_pages_in_chromium(portal: tuple[TestClient, RpcBackend, ChainContext]) -> None:
    """The pages as a person sees them: a real headless Chromium against the API served by uvicorn; screenshots are
    kept in build/test-artifacts/."""
    browser_path = chromium()
    import threading
    import time

    import uvicorn
    from playwright.sync_api import sync_playwright

    from chain_client.anvil import free_port

    client, _, _ = portal
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(client.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    artifacts = Path(__file__).resolve().parents[2] / "build" / "test-artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(browser_path), args=["--no-sandbox"], headless=True)
            try:
                page = browser.new_page(viewport={"width": 1300, "height": 900})
                page.goto(f"http://127.0.0.1:{port}/dashboard")
                assert page.locator("svg").count() >= 4
                assert "Batteries by status" in (page.text_content("body") or "")
                page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)
                page.goto(f"http://127.0.0.1:{port}/p/{SERIAL}")
                assert SERIAL in (page.text_content("body") or "")
                page.screenshot(path=str(artifacts / "passport-page.png"), full_page=True)
            finally:
                browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
