"""Public lookups under concurrency: readers of one block share one set of chain reads and get the same answer; every
read of an answer is pinned to the block it reports; a new block gives a fresh answer."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from api.routes import public
from chain_client.passports import battery_id
from chain_client.vocabulary import BatteryStatus
from tests.api.conftest import Api
from tests.conftest import MODEL

SERIAL = "KR:KCELL:BAT-0001"


def test_concurrent_readers_share_one_answer_per_block(embedded_api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    api, w = embedded_api, embedded_api.world
    w.ledger.passports.register(w.cell_maker, SERIAL, MODEL)
    api.index()
    built: list[int] = []
    real = public._battery

    def counting(identifier: str, reads: public.PublicReads, block: int) -> public.BatteryLookup:
        built.append(block)
        return real(identifier, reads, block)

    monkeypatch.setattr(public, "_battery", counting)

    async def many(n: int) -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=api.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://portal") as client:
            return list(await asyncio.gather(*(client.get(f"/v1/public/batteries/{SERIAL}") for _ in range(n))))

    first = asyncio.run(many(20))
    assert {r.status_code for r in first} == {200} and len({r.content for r in first}) == 1
    body: dict[str, Any] = first[0].json()
    head = w.backend.w3.eth.block_number
    assert body["block"] == head and body["status"] == "Original" and built == [head]
    public.BatteryLookup.model_validate(body)  # the declared schema
    # a new block (the battery changed hands): a fresh answer, read at the new block
    bid = battery_id(SERIAL)
    w.ledger.passports.transfer(w.cell_maker, bid, w.recycler.address)
    again = api.client.get(f"/v1/public/batteries/{SERIAL}").json()
    assert again["block"] == head + 1 and built == [head, head + 1]
    missing = api.client.get("/v1/public/batteries/NO-SUCH-BATTERY")
    assert missing.status_code == 404 and missing.json()["type"].endswith("/unknown-battery")


def test_reads_are_pinned_to_the_block_they_report(embedded_api: Api) -> None:
    api, w = embedded_api, embedded_api.world
    w.ledger.passports.register(w.cell_maker, SERIAL, MODEL)
    bid = battery_id(SERIAL)
    before = w.backend.w3.eth.block_number
    w.ledger.passports.transfer(w.cell_maker, bid, w.ev_maker.address)
    w.ledger.passports.put_in_service(w.ev_maker, bid, b"\x01" * 32)
    chain = api.app.state.chain
    assert chain.ledger_at(before).passports.battery(bid).status == BatteryStatus.ORIGINAL
    assert chain.ledger_at(w.backend.w3.eth.block_number).passports.battery(bid).status == BatteryStatus.IN_SERVICE
    assert api.client.get(f"/v1/public/batteries/{SERIAL}").json()["status"] == "InService"
