"""The relayer pipelines: it sends every request that can go (several signers, and one signer's successive requests)
with successive relayer nonces before the first is mined, then follows the receipts; each request is mined once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api.models import RelayRequest
from chain_client.backends import RpcBackend
from tests.api.conftest import Api, make_api
from tests.api.test_flow import lot_body
from tests.conftest import World


@pytest.fixture
def anvil_api(anvil_world: World, tmp_path: Path) -> Iterator[Api]:
    """The API on anvil whose tests may stop automatic mining; mining, the chain and the nonces are restored after."""
    backend = anvil_world.backend
    assert isinstance(backend, RpcBackend)
    snapshot = backend.snapshot()
    api = make_api(anvil_world, f"sqlite:///{tmp_path / 'api.db'}", tmp_path / "docs", receipt_timeout_seconds=0.3)
    try:
        yield api
    finally:
        backend._rpc("evm_setAutomine", [True])
        api.client.close()
        api.app.state.engine.dispose()
        backend.revert(snapshot)
        anvil_world.sender.nonces.reset()


def test_several_requests_sent_before_the_first_is_mined_each_mined_once(anvil_api: Api) -> None:
    api, w = anvil_api, anvil_api.world
    backend = w.backend
    assert isinstance(backend, RpcBackend)
    lots_before = w.ledger.certificates.lot_count()
    signers = (w.recycler, w.recycler, w.recycler, w.recycler2)
    ids = []
    for account in signers:  # three successive requests of one signer (two simulated together), one other
        headers = api.sign_in(account)
        body = {**lot_body(api), **({"facility": "KR-RECYCLER2-PLANT-1"} if account is w.recycler2 else {})}
        signed = api.sign(account, api.prepare(account, "/v1/certification/lots", body, headers))
        r = api.client.post("/v1/requests", json=signed, headers=headers)
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])
    backend._rpc("evm_setAutomine", [False])  # nothing is mined until the test says so
    head = backend.w3.eth.block_number
    assert api.app.state.relayer.run_once() == 4  # all four queued -> sent in one round
    with api.app.state.engine.connect() as conn:
        rows = conn.execute(RelayRequest.__table__.select()).mappings().all()  # type: ignore[attr-defined]
    assert [r["status"] for r in rows] == ["sent"] * 4 and backend.w3.eth.block_number == head
    nonces = [backend.w3.eth.get_transaction(r["tx_hash"])["nonce"] for r in rows]  # in the node's pool
    assert nonces == list(range(nonces[0], nonces[0] + 4))  # successive relayer nonces, none waited for
    assert api.app.state.relayer.run_once() == 0  # still in the pool: followed, not sent again
    backend._rpc("evm_mine", [])
    assert api.app.state.relayer.run_once() == 4
    statuses = [api.client.get(f"/v1/requests/{i}", headers=api.sign_in(a)).json()
                for i, a in zip(ids, signers, strict=True)]
    assert [s["status"] for s in statuses] == ["mined"] * 4, statuses
    assert {s["block_number"] for s in statuses} == {head + 1}
    assert w.ledger.certificates.lot_count() == lots_before + 4
    backend._rpc("evm_setAutomine", [True])
    assert api.app.state.relayer.run_once() == 0
    backend._rpc("evm_mine", [])
    assert w.ledger.certificates.lot_count() == lots_before + 4  # exactly once


def test_a_request_refused_in_the_block_of_its_predecessor_is_decoded(anvil_api: Api) -> None:
    """Two transfers of 800 g of a 1,000 g lot by one signer, relayed together and mined in one block: the first is
    mined, the second fails with the contract's own error (not the forwarder's nonce error a replay before the block
    would give)."""
    api, w = anvil_api, anvil_api.world
    backend = w.backend
    assert isinstance(backend, RpcBackend)
    lot = w.certified_lot(grams=1_000)
    headers = api.sign_in(w.recycler)
    ids = []
    for ref in ("SHIP-A", "SHIP-B"):
        body = {"to": w.cell_maker.address, "grams": 800, "shipment_ref": ref}
        signed = api.sign(w.recycler, api.prepare(w.recycler, f"/v1/certification/lots/{lot}/transfers", body,
                                                  headers))
        ids.append(api.client.post("/v1/requests", json=signed, headers=headers).json()["id"])
    backend._rpc("evm_setAutomine", [False])
    assert api.app.state.relayer.run_once() == 2  # both sent: the second's call passes before the first runs
    backend._rpc("evm_mine", [])
    api.app.state.relayer.run_once()
    a, b = (api.client.get(f"/v1/requests/{i}", headers=headers).json() for i in ids)
    assert a["status"] == "mined" and b["status"] == "failed" and a["block_number"] == b["block_number"]
    assert b["error"]["name"] == "CertificatesInsufficientBalance", b
    assert w.ledger.certificates.balance(lot, w.cell_maker.address) == 800


def test_the_next_nonce_follows_a_mined_request_the_nodes_read_does_not_show_yet(embedded_api: Api) -> None:
    """Under load a node can answer a receipt before its latest state shows the call's effect: a request the relayer
    saw mined still counts, so the signer's next request is prepared and accepted after it (not refused as out of
    order); a failed request's nonce is free again."""
    from sqlmodel import Session

    from api.forwarding import expected_nonce

    signer = embedded_api.world.recycler.address
    with Session(embedded_api.app.state.engine) as db:
        assert expected_nonce(db, signer, 5) == 5
        for nonce, status in ((5, "mined"), (6, "failed")):
            db.add(RelayRequest(digest=f"0x{nonce:064x}", signer=signer, target=signer, gas=1, forwarder_nonce=nonce,
                                deadline=1, data="0x", signature="0x", status=status))
        db.commit()
        assert expected_nonce(db, signer, 5) == 6  # the chain still reads 5: the mined request counts
        assert expected_nonce(db, signer, 7) == 7  # the chain is ahead: it wins


def test_requests_after_a_failed_one_fail_by_name_instead_of_waiting(api: Api) -> None:
    """Three transfers by one signer (forwarder nonces n, n+1, n+2) of a 1,000 g lot: 800 g, 800 g, 100 g. The first is
    mined, the second is refused when its turn comes, so the third's nonce can never be reached: it fails naming the
    second instead of waiting for ever, and the signer's next request is prepared from the freed nonce."""
    w = api.world
    lot = w.certified_lot(grams=1_000)
    headers = api.sign_in(w.recycler)
    ids = []
    for ref, grams in (("SHIP-A", 800), ("SHIP-B", 800), ("SHIP-C", 100)):
        body = {"to": w.cell_maker.address, "grams": grams, "shipment_ref": ref}
        signed = api.sign(w.recycler, api.prepare(w.recycler, f"/v1/certification/lots/{lot}/transfers", body, headers))
        r = api.client.post("/v1/requests", json=signed, headers=headers)
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])
    relayer = api.app.state.relayer
    for _ in range(4):
        relayer.run_once()
    a, b, c = (api.client.get(f"/v1/requests/{i}", headers=headers).json() for i in ids)
    assert (a["status"], b["status"], c["status"]) == ("mined", "failed", "failed"), (a, b, c)
    assert b["error"]["name"] == "CertificatesInsufficientBalance", b
    assert c["error"]["name"] == "RelayPredecessorFailed", c
    assert c["error"]["args"]["request"] == ids[1], c
    assert w.ledger.certificates.balance(lot, w.cell_maker.address) == 800  # the third never ran
    body = {"to": w.cell_maker.address, "grams": 100, "shipment_ref": "SHIP-D"}
    again = api.sign(w.recycler, api.prepare(w.recycler, f"/v1/certification/lots/{lot}/transfers", body, headers))
    r = api.client.post("/v1/requests", json=again, headers=headers)
    assert r.status_code == 202, r.text
    relayer.run_once()
    assert api.client.get(f"/v1/requests/{r.json()['id']}", headers=headers).json()["status"] == "mined"
    assert w.ledger.certificates.balance(lot, w.cell_maker.address) == 900


def test_a_request_queued_behind_one_that_fails_on_chain_fails_by_name(anvil_api: Api) -> None:
    """The third transfer arrives while the second is in the node's pool; the second then fails when mined: the third,
    still queued, can never reach its nonce and fails naming the second (it does not wait for ever)."""
    api, w = anvil_api, anvil_api.world
    backend = w.backend
    assert isinstance(backend, RpcBackend)
    lot = w.certified_lot(grams=1_000)
    headers = api.sign_in(w.recycler)
    relayer = api.app.state.relayer

    def submit(ref: str, grams: int) -> int:
        body = {"to": w.cell_maker.address, "grams": grams, "shipment_ref": ref}
        signed = api.sign(w.recycler, api.prepare(w.recycler, f"/v1/certification/lots/{lot}/transfers", body,
                                                  headers))
        r = api.client.post("/v1/requests", json=signed, headers=headers)
        assert r.status_code == 202, r.text
        return int(r.json()["id"])

    backend._rpc("evm_setAutomine", [False])
    ids = [submit("SHIP-A", 800), submit("SHIP-B", 800)]
    relayer.run_once()  # both in the pool
    ids.append(submit("SHIP-C", 100))  # arrives while they wait to be mined
    backend._rpc("evm_mine", [])
    for _ in range(3):
        relayer.run_once()
    a, b, c = (api.client.get(f"/v1/requests/{i}", headers=headers).json() for i in ids)
    assert (a["status"], b["status"], c["status"]) == ("mined", "failed", "failed"), (a, b, c)
    assert b["error"]["name"] == "CertificatesInsufficientBalance", b
    assert c["error"]["name"] == "RelayPredecessorFailed" and c["error"]["args"]["request"] == ids[1], c
    assert c["tx_hash"] is None  # never sent
