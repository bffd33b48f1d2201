"""The chain index: incremental indexing equals a rebuild from the chain alone; reorganisations roll back;
confirmation depth holds back recent blocks; lists paginate and say which block they reflect."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from sqlalchemy import inspect, text

from api.models import INDEX_TABLES
from chain_client.claims import Allocation
from chain_client.vocabulary import ParticipantStatus, identifier
from tests.api.conftest import Api, make_api
from tests.conftest import World
from tests.test_trust_rules import _claim


def story(w: World) -> None:
    lot = w.lot_held_by_cell_maker(grams=50_000)
    w.ledger.certificates.transfer(w.cell_maker, lot, w.cell_maker2.address, 5_000, identifier("SHIP-X"))
    w.ledger.claims.open(w.cell_maker, _claim(w, [Allocation(lot, 1_000), Allocation(lot, 2_000)]))  # one lot twice
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
    assert [r[:4] for r in incremental["ix_allocation"]] == [("1", "1", w.cell_maker.address, "3000")]  # summed
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


def test_decoder_reads_every_event_as_web3_does(api: Api) -> None:
    """The indexer's own ABI decoders give, for every suite event of the base state and the story, the arguments
    web3's ``process_log`` gives (JSON-able: checksummed addresses, 0x bytes, structs as objects)."""
    from api.indexer import plain
    from chain_client.suite import SUITE, contract_at

    w = api.world
    story(w)
    indexer = api.app.state.indexer
    w3 = w.backend.w3
    logs = w3.eth.get_logs({"fromBlock": w.deployment.block_number, "toBlock": "latest",
                            "address": sorted(api.app.state.chain.suite_addresses)})  # type: ignore[typeddict-item]
    events = {}
    for name in SUITE:
        contract = contract_at(w3, name, w.deployment.contracts[name])
        for item in cast(list[Any], contract.abi):
            if item.get("type") == "event":
                events[(str(contract.address).lower(), item["name"])] = getattr(contract.events, item["name"])()
    checked = set()
    for entry in logs:
        decoder = indexer._decoders.get((str(entry["address"]).lower(), bytes(entry["topics"][0])))
        if decoder is None:
            continue  # not in the contract's ABI (the indexer skips it too)
        mine = decoder.args([bytes(t) for t in entry["topics"]], bytes(entry["data"]))
        theirs = plain(dict(events[(str(entry["address"]).lower(), decoder.name)].process_log(entry)["args"]))
        assert mine == theirs, decoder.name
        checked.add(decoder.name)
    assert {"ParticipantRegistered", "LotApplied", "QuantityTransferred", "ParticipantStatusChanged"} <= checked


def test_small_ranges_and_refused_large_queries_give_the_same_index(embedded_api: Api) -> None:
    """Ranges of a few blocks, and a node refusing queries of more than 2 blocks ("too many results": the range
    halves, then grows back), index the same tables as one range."""
    api, w = embedded_api, embedded_api.world
    story(w)
    api.index()
    whole = dump(api)
    indexer = api.app.state.indexer
    real = indexer._get_logs
    asked: list[int] = []

    def picky(first: int, last: int) -> list[dict[str, Any]]:
        asked.append(last - first + 1)
        if last - first + 1 > 2:
            raise ValueError("query returned more than 10000 results")
        return real(first, last)  # type: ignore[no-any-return]

    indexer._get_logs = picky
    indexer.batch_blocks = indexer._span = 8
    try:
        indexer.rebuild()
    finally:
        indexer._get_logs = real
    assert dump(api) == whole
    assert max(asked) == 8 and 2 in asked and asked.count(8) == 1  # halved on refusal, grown back to 4 after


def test_node_errors_other_than_too_many_results_are_not_retried(embedded_api: Api) -> None:
    import pytest

    indexer = embedded_api.app.state.indexer

    def broken(first: int, last: int) -> list[dict[str, Any]]:
        raise ValueError("invalid block range")

    indexer._get_logs = broken
    with pytest.raises(ValueError, match="invalid block range"):
        indexer.rebuild()
