"""The whole path of a write: sign in, prepare, sign locally, submit, relay, follow; then read it from the index."""

from __future__ import annotations

from chain_client.passports import battery_id
from chain_client.vocabulary import BatteryStatus, LotStatus
from tests.api.conftest import Api
from tests.conftest import World

LOT = {"material": "lithium", "feedstock": "post_consumer", "mass_grams": 120_000, "chemical_form": "Li2CO3",
       "facility": "KR-RECYCLER-PLANT-1", "period_start": 0, "period_end": 0}


def lot_body(api: Api) -> dict[str, object]:
    now = api.world.chain_time()
    return {**LOT, "period_start": now - 30 * 86_400, "period_end": now - 86_400}


def test_relayed_lot_application_and_certification(api: Api) -> None:
    w = api.world
    portal_balance = w.backend.w3.eth.get_balance(w.recycler.address)
    status = api.act(w.recycler, "/v1/certification/lots", lot_body(api))
    assert status["status"] == "mined", status
    assert status["block_number"] > 0 and status["tx_hash"].startswith("0x")
    assert w.ledger.certificates.lot(1).recycler == w.recycler.address  # the contract saw the signer
    assert w.backend.w3.eth.get_balance(w.recycler.address) == portal_balance  # the portal paid
    assert api.act(w.moe, "/v1/certification/lots/1/certify", {})["status"] == "mined"
    assert w.ledger.certificates.lot(1).status == LotStatus.CERTIFIED
    assert api.act(w.recycler, "/v1/certification/lots/1/transfers",
                   {"to": w.cell_maker.address, "grams": 20_000, "shipment_ref": "SHIP-1"})["status"] == "mined"
    api.index()
    headers = api.sign_in(w.cell_maker)
    page = api.client.get("/v1/certification/lots", params={"holder": w.cell_maker.address}, headers=headers).json()
    assert page["block"] == w.backend.w3.eth.block_number
    assert [(x["lot_id"], x["holder_grams"], x["status"]) for x in page["items"]] == [(1, 20_000, "certified")]
    public = api.client.get("/v1/public/lots/1").json()
    assert public["status"] == "certified" and public["mass_grams"] == 120_000


def test_refused_act_is_a_422_with_the_contracts_error(api: Api) -> None:
    w = api.world
    headers = api.sign_in(w.moe)
    r = api.client.post("/v1/certification/lots/99/certify", json={}, headers=headers)
    assert r.status_code == 422
    body = r.json()
    assert r.headers["content-type"] == "application/problem+json"
    assert body["type"].endswith("/contract-refused")
    assert body["error"]["name"] == "CertificatesUnknownLot" and body["error"]["args"]["lotId"] == 99


def test_same_signed_request_is_accepted_once(api: Api) -> None:
    w = api.world
    headers = api.sign_in(w.recycler)
    signed = api.sign(w.recycler, api.prepare(w.recycler, "/v1/certification/lots", lot_body(api), headers))
    first = api.client.post("/v1/requests", json=signed, headers={**headers, "Idempotency-Key": "k-1"})
    again = api.client.post("/v1/requests", json=signed, headers={**headers, "Idempotency-Key": "k-1"})
    plain = api.client.post("/v1/requests", json=signed, headers=headers)
    assert first.status_code == 202 and again.status_code == 200 and plain.status_code == 200
    assert first.json()["id"] == again.json()["id"] == plain.json()["id"]
    api.app.state.relayer.run_once()
    api.app.state.relayer.run_once()
    assert w.ledger.certificates.lot_count() == 1
    other = api.sign(w.recycler, api.prepare(w.recycler, "/v1/certification/lots", lot_body(api), headers))
    reused = api.client.post("/v1/requests", json=other, headers={**headers, "Idempotency-Key": "k-1"})
    assert reused.status_code == 409 and reused.json()["type"].endswith("/idempotency-key-reused")


def test_requests_queue_in_nonce_order_and_a_late_refusal_is_decoded(api: Api) -> None:
    """Two transfers of the same grams, both accepted while neither is mined: the second fails when relayed, and its
    status carries the contract's error."""
    w = api.world
    lot = w.certified_lot(grams=1_000)
    headers = api.sign_in(w.recycler)
    body = {"to": w.cell_maker.address, "grams": 800, "shipment_ref": "SHIP-A"}
    ids: list[int] = []
    for ref in ("SHIP-A", "SHIP-B"):  # each prepared after the previous one entered the outbox
        signed = api.sign(w.recycler, api.prepare(w.recycler, f"/v1/certification/lots/{lot}/transfers",
                                                  {**body, "shipment_ref": ref}, headers))
        accepted = api.client.post("/v1/requests", json=signed, headers=headers)
        assert accepted.status_code == 202, accepted.text
        assert accepted.json()["forwarder_nonce"] == len(ids)
        ids.append(accepted.json()["id"])
    api.app.state.relayer.run_once()
    a, b = (api.client.get(f"/v1/requests/{i}", headers=headers).json() for i in ids)
    assert a["status"] == "mined"
    assert b["status"] == "failed" and b["error"]["name"] == "CertificatesInsufficientBalance", b
    assert w.ledger.certificates.balance(lot, w.cell_maker.address) == 800


def test_background_relayer_and_indexer(embedded_world: object, tmp_path: object) -> None:
    """As `bledger serve` runs it: the relayer and the indexer as threads; the client only polls."""
    import time
    from pathlib import Path

    from tests.api.conftest import make_api

    w = embedded_world
    assert isinstance(w, World) and isinstance(tmp_path, Path)
    snapshot = w.backend.snapshot()
    api = make_api(w, f"sqlite:///{tmp_path / 'api.db'}", tmp_path / "docs", background=True, poll_seconds=0.05)
    try:
        with api.client:  # runs the lifespan: starts and stops the threads
            headers = api.sign_in(w.recycler)
            signed = api.sign(w.recycler, api.prepare(w.recycler, "/v1/certification/lots", lot_body(api), headers))
            request_id = api.client.post("/v1/requests", json=signed, headers=headers).json()["id"]
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                status = api.client.get(f"/v1/requests/{request_id}", headers=headers).json()
                page = api.client.get("/v1/certification/lots", headers=headers).json()
                if status["status"] == "mined" and page["items"]:
                    break
                time.sleep(0.05)
            assert status["status"] == "mined" and page["items"][0]["status"] == "pending"
            assert page["block"] >= status["block_number"]
    finally:
        api.app.state.engine.dispose()
        w.backend.revert(snapshot)
        w.sender.nonces.reset()


def test_a_battery_lives_its_whole_life_through_the_portal(api: Api) -> None:
    """Every life-cycle act as a signed, relayed request: each party signs its own act, the portal relays."""
    w, p = api.world, api.world.ledger.passports
    serial, successor = "KR:KCELL:EV:4040404", "KR:REUSE:ESS:4040404"
    ok = "mined"
    assert api.act(w.cell_maker, "/v1/lifecycle/batteries",
                   {"identifier": serial, "model": "KR:KCELL:NCM811-E-POUCH-78AH"})["status"] == ok
    assert api.act(w.cell_maker, f"/v1/lifecycle/batteries/{serial}/transfer",
                   {"to": w.ev_maker.address})["status"] == ok
    assert api.act(w.ev_maker, f"/v1/lifecycle/batteries/{serial}/in-service",
                   {"vin_hash": "0x" + "ab" * 32})["status"] == ok
    w.evaluate(battery_id(serial))
    assert api.act(w.ev_maker, f"/v1/lifecycle/batteries/{serial}/removed", {})["status"] == ok
    w.inspect(battery_id(serial))
    assert api.act(w.ev_maker, f"/v1/lifecycle/batteries/{serial}/transfer", {"to": w.reuser.address})["status"] == ok
    # a successor under someone else's issuer prefix is refused at preparation, with the contract's error
    r = api.client.post(f"/v1/lifecycle/batteries/{serial}/second-life", headers=api.sign_in(w.reuser),
                        json={"successor": "KR:KCELL:ESS:1", "status": "repurposed"})
    assert r.status_code == 422 and "PassportNotIssuer" in r.text
    assert api.act(w.reuser, f"/v1/lifecycle/batteries/{serial}/second-life",
                   {"successor": successor, "status": "repurposed"})["status"] == ok
    assert api.act(w.reuser, f"/v1/lifecycle/batteries/{successor}/waste", {})["status"] == ok
    assert api.act(w.reuser, f"/v1/lifecycle/batteries/{successor}/transfer",
                   {"to": w.recycler.address})["status"] == ok
    lot_id = w.certified_lot()
    assert api.act(w.recycler, f"/v1/lifecycle/batteries/{successor}/recycled", {"lot_id": lot_id})["status"] == ok
    assert p.battery(battery_id(successor)).status == BatteryStatus.RECYCLED
    r = api.client.post(f"/v1/lifecycle/batteries/{successor}/installation", headers=api.sign_in(w.reuser),
                        json={"site_hash": "0x" + "cd" * 32})
    assert r.status_code == 422 and "PassportNotOperator" in r.text  # the recycler holds it now
