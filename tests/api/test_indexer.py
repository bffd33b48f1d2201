"""The chain index: incremental indexing equals a rebuild from the chain alone; reorganisations roll back;
confirmation depth holds back recent blocks; lists paginate and say which block they reflect."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text

from api.models import INDEX_TABLES
from chain_client.vocabulary import ParticipantStatus, identifier
from tests.api.conftest import Api, make_api
from tests.conftest import World


def story(w: World) -> None:
    lot = w.lot_held_by_cell_maker(grams=50_000)
    w.ledger.certificates.transfer(w.cell_maker, lot, w.cell_maker2.address, 5_000, identifier("SHIP-X"))
    w.ledger.registry.suspend(w.moe, w.recycler2.address)
    w.certified_lot(grams=7_000)


def dump(api: Api) -> dict[str, list[tuple[Any, ...]]]:
    """Every index table's rows, without surrogate ids (those depend on insertion history)."""
    out = {}
    with api.app.state.engine.connect() as conn:
        for table in INDEX_TABLES:
            name = str(getattr(table, "__tablename__"))
            cols = [c["name"] for c in inspect(conn).get_columns(name) if c["name"] != "id"]
            rows = conn.execute(text(f"SELECT {', '.join(cols)} FROM {name}")).all()
            out[name] = sorted(tuple(str(v) for v in r) for r in rows)
    return out


def test_rebuild_from_the_chain_reproduces_the_tables(api: Api, tmp_path: Path) -> None:
    w = api.world
    api.index()  # the base state
    story(w)
    api.index()
    incremental = dump(api)
    assert len(incremental["ix_lot"]) == 2 and len(incremental["ix_transfer"]) == 2
    assert incremental["ix_participant"] and incremental["ix_model"]
    api.app.state.indexer.rebuild()
    assert dump(api) == incremental
    headers = api.sign_in(w.importer)
    suspended = api.client.get("/v1/registry/participants", params={"status": "suspended"}, headers=headers).json()
    assert [p["address"] for p in suspended["items"]] == [w.recycler2.address]


def test_reorganisation_rolls_back(embedded_api: Api) -> None:
    api, w = embedded_api, embedded_api.world
    api.index()
    fork = w.backend.snapshot()
    w.certified_lot(grams=1_111)
    api.index()
    assert any("1111" in r for r in dump(api)["ix_lot"])
    w.backend.revert(fork)
    w.sender.nonces.reset()
    w.certified_lot(grams=2_222)
    w.certified_lot(grams=3_333)
    api.index()
    lots = dump(api)["ix_lot"]
    assert not any("1111" in r for r in lots)
    assert sum("2222" in r for r in lots) == 1 and sum("3333" in r for r in lots) == 1


def test_confirmation_depth_holds_back_recent_blocks(embedded_world: World, tmp_path: Path) -> None:
    w = embedded_world
    snapshot = w.backend.snapshot()
    try:
        api = make_api(w, f"sqlite:///{tmp_path / 'api.db'}", tmp_path / "docs", confirmations=2)
        api.index()
        head = w.backend.w3.eth.block_number
        headers = api.sign_in(w.recycler)
        assert api.client.get("/v1/registry/participants", headers=headers).json()["block"] == head - 2
        api.app.state.engine.dispose()
    finally:
        w.backend.revert(snapshot)
        w.sender.nonces.reset()


def test_lists_paginate_and_filter(embedded_api: Api) -> None:
    api, w = embedded_api, embedded_api.world
    api.index()
    headers = api.sign_in(w.importer)
    seen, cursor = [], None
    while True:
        page = api.client.get("/v1/registry/participants", params={"limit": 4, **({"cursor": cursor} if cursor else {})},
                              headers=headers).json()
        seen += [p["address"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    registered = {a.address for a in w.accounts.values()
                  if w.ledger.registry.participant(a.address).status != ParticipantStatus.NONE}
    assert len(seen) == len(set(seen)) and set(seen) == registered and len(seen) > 8
    recyclers = api.client.get("/v1/registry/participants", params={"role": "recycler"}, headers=headers).json()
    assert {p["address"] for p in recyclers["items"]} == {w.recycler.address, w.recycler2.address}
