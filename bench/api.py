"""The portal API on anvil: public battery lookup latency (p50/p99 at 1, 10 and 50 concurrent clients) beside a
direct chain_client read of the same data; relayed writes per second through the API beside direct writes; the
indexer's catch-up in events per second."""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import uvicorn
from rich.console import Console
from rich.table import Table

from api.app import create_app
from api.chain import ChainContext
from api.indexer import Indexer
from api.db import make_engine, migrate
from api.sdk import PortalClient
from api.settings import Settings
from chain_client.anvil import AnvilNode, free_port
from chain_client.backends import RpcBackend
from chain_client.demo import PARTIES, run_demo
from chain_client.passports import battery_id
from chain_client.suite import Ledger
from chain_client.transactions import TxSender
from chain_client.vocabulary import identifier

BATTERY = "KR:KCELL:EV:0000001"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _direct_lookup(ledger: Ledger) -> None:
    """The chain reads behind one public battery lookup, through chain_client."""
    b = ledger.passports.battery(battery_id(BATTERY))
    ledger.passports.model(b.model_id)
    claims = ledger.claims
    claims.claim(1)
    claims.is_tainted(1)
    claims.shares(1)
    for year in claims.milestone_years():
        claims.compliance(1, year)


def run(console: Console, requests_per_level: int = 200, writes: int = 40) -> None:
    with AnvilNode() as node, tempfile.TemporaryDirectory() as tmp:
        backend = RpcBackend(node.url)
        result = run_demo(backend, Console(file=open("/dev/null", "w")))  # noqa: SIM115
        assert result.deployment is not None
        accounts = dict(zip(PARTIES, backend.funded_accounts(len(PARTIES)), strict=True))
        port = free_port()
        settings = Settings(database_url=f"sqlite:///{tmp}/api.db", document_dir=Path(tmp) / "docs", background=True,
                            poll_seconds=0.05, domain=f"127.0.0.1:{port}", uri=f"http://127.0.0.1:{port}")
        app = create_app(settings, ChainContext(backend.w3, result.deployment, accounts["portal"]))
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        ledger = Ledger(backend.w3, result.deployment, TxSender(backend.w3))
        try:
            _lookups(console, base, ledger, requests_per_level)
            _writes(console, base, ledger, accounts, writes)
            _indexer(console, ChainContext(backend.w3, result.deployment, accounts["portal"]), tmp)
        finally:
            server.should_exit = True
            thread.join(timeout=10)


def _lookups(console: Console, base: str, ledger: Ledger, per_level: int) -> None:
    table = Table(title=f"public battery lookup ({per_level} requests per level, anvil, SQLite)")
    for col in ("path", "clients", "p50 ms", "p99 ms", "req/s"):
        table.add_column(col, justify="right")
    direct: list[float] = []
    for _ in range(50):
        t0 = time.perf_counter()
        _direct_lookup(ledger)
        direct.append((time.perf_counter() - t0) * 1000)
    table.add_row("chain_client direct", "1", f"{statistics.median(direct):.1f}", f"{_pct(direct, 0.99):.1f}", "")
    for clients in (1, 10, 50):
        local = threading.local()

        def one(_: int) -> float:
            client = getattr(local, "client", None)
            if client is None:
                client = local.client = httpx.Client(base_url=base, timeout=30)
            t0 = time.perf_counter()
            r = client.get(f"/v1/public/batteries/{BATTERY}")
            assert r.status_code == 200, r.text
            return (time.perf_counter() - t0) * 1000

        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(one, range(clients)))  # warm the connections
            t0 = time.perf_counter()
            times = list(pool.map(one, range(per_level)))
            wall = time.perf_counter() - t0
        table.add_row("API GET /v1/public/batteries", str(clients), f"{statistics.median(times):.1f}",
                      f"{_pct(times, 0.99):.1f}", f"{per_level / wall:.0f}")
    console.print(table)
    console.print("goal: p99 under 50 ms at 50 clients on this 2-core machine")


def _writes(console: Console, base: str, ledger: Ledger, a: dict, count: int) -> None:
    lot = 1  # the demo's lithium lot: the recycler still holds 30 kg
    t0 = time.perf_counter()
    for i in range(count):
        ledger.certificates.transfer(a["recycler"], lot, a["processor"].address, 1, identifier(f"BENCH-D-{i}"))
    direct = count / (time.perf_counter() - t0)
    with httpx.Client(base_url=base, timeout=60) as http:
        sdk = PortalClient(http, a["recycler"])
        sdk.sign_in()
        t0 = time.perf_counter()
        ids = [sdk.act(f"/v1/certification/lots/{lot}/transfers",
                       {"to": a["processor"].address, "grams": 1, "shipment_ref": f"BENCH-R-{i}"})["id"]
               for i in range(count)]
        statuses = [sdk.wait(i, timeout=120, interval=0.05) for i in ids]
        relayed = count / (time.perf_counter() - t0)
    assert all(s["status"] == "mined" for s in statuses), statuses
    table = Table(title=f"writes: {count} certified-quantity transfers (anvil)")
    for col in ("path", "writes/s", "ratio"):
        table.add_column(col, justify="right")
    table.add_row("chain_client direct (signer sends)", f"{direct:.1f}", "1.00")
    table.add_row("API: prepare, sign locally, submit, relayed, mined", f"{relayed:.1f}", f"{relayed / direct:.2f}")
    console.print(table)
    console.print("goal: at least 0.8 of direct")


def _indexer(console: Console, chain: ChainContext, tmp: str) -> None:
    engine = make_engine(f"sqlite:///{tmp}/rebuild.db")
    migrate(engine)
    t0 = time.perf_counter()
    events = Indexer(chain, engine).rebuild()
    wall = time.perf_counter() - t0
    console.print(f"indexer catch-up from the deployment block: {events} events in {wall:.2f} s = "
                  f"{events / wall:.0f} events/s (SQLite)")
