"""The portal API on anvil, measured in one run after the demo story:

- public battery lookup latency (p50/p99 at 1, 10 and 50 concurrent clients, each on its own keep-alive
  connection) beside a direct chain_client read of the same data; the API runs in its own process
  (``bench.api_server``: uvicorn with httptools and uvloop) and the load comes from a light asyncio HTTP client, so
  that the load generator does not share an interpreter (a GIL) with the server;
- relayed writes per second through the API (prepare, sign locally, submit, relayed, mined) beside direct
  chain_client writes of the same transfers, with one signer and with three signers at once;
- the indexer's catch-up from the deployment block into a fresh SQLite database, in events per second, over at least
  100,000 events (10,000 with ``--quick``) made by real signed transactions (``bench.api_events``).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.table import Table

from api.chain import ChainContext
from api.db import make_engine, migrate
from api.indexer import Indexer
from api.sdk import PortalClient
from bench.api_events import emit_evaluations, in_service_battery
from chain_client.anvil import AnvilNode, free_port
from chain_client.backends import RpcBackend
from chain_client.demo import PARTIES, run_demo
from chain_client.passports import battery_id
from chain_client.suite import Ledger
from chain_client.transactions import TxSender
from chain_client.vocabulary import identifier

BATTERY = "KR:KCELL:EV:0000001"
#: Who writes in the write benchmark: (signer, lot it holds, recipient). The demo leaves the recycler holding lot 3
#: and the processor lot 2; the cell maker gets some of lot 3 before the run.
WRITERS = (("recycler", 3, "processor"), ("processor", 2, "cell_maker"), ("cell_maker", 3, "processor"))


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


def run(console: Console, requests_per_level: int = 200, writes: int = 40, events: int = 100_000) -> None:
    with AnvilNode() as node, tempfile.TemporaryDirectory() as tmp:
        backend = RpcBackend(node.url)
        result = run_demo(backend, Console(file=open("/dev/null", "w")))  # noqa: SIM115
        assert result.deployment is not None
        accounts = dict(zip(PARTIES, backend.funded_accounts(len(PARTIES)), strict=True))
        ledger = Ledger(backend.w3, result.deployment, TxSender(backend.w3))
        deployment_file = Path(tmp) / "deployment.json"
        result.deployment.save(deployment_file)
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "bench.api_server", node.url, str(deployment_file),
                                   f"sqlite:///{tmp}/api.db", str(port), tmp],
                                  env={**os.environ, "PYTHONPATH": os.getcwd()})
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_up(base, server)
            _lookups(console, port, ledger, requests_per_level)
            direct = _writes(console, base, ledger, accounts, writes)
        finally:
            server.terminate()
            server.wait(timeout=30)
        _relayer_stage(console, ChainContext(backend.w3, result.deployment, accounts["portal"]), ledger, accounts, tmp,
                       3 * writes, direct)
        _indexer(console, ledger, ChainContext(backend.w3, result.deployment, accounts["portal"]), accounts, tmp,
                 events)


def _wait_up(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the API server exited")
        try:
            if httpx.get(f"{base}/v1/public/batteries/{BATTERY}", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the API server did not start")


# lookups ----------------------------------------------------------------------------------------------------------
async def _client(port: int, path: str, count: int, times: list[float]) -> None:
    """One keep-alive HTTP/1.1 connection sending ``count`` GETs one after the other."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    try:
        for _ in range(count):
            t0 = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = head.split(b" ", 2)[1]
            length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            body = await reader.readexactly(length)
            times.append((time.perf_counter() - t0) * 1000)
            if status != b"200":
                raise RuntimeError(f"lookup answered {status.decode()}: {body[:300]!r}")
    finally:
        writer.close()


async def _load(port: int, path: str, clients: int, total: int) -> tuple[list[float], float]:
    times: list[float] = []
    await asyncio.gather(*(_client(port, path, 2, []) for _ in range(clients)))  # warm up
    per = max(1, total // clients)
    t0 = time.perf_counter()
    await asyncio.gather(*(_client(port, path, per, times) for _ in range(clients)))
    return times, time.perf_counter() - t0


def _lookups(console: Console, port: int, ledger: Ledger, per_level: int, runs: int = 3) -> None:
    table = Table(title=f"public battery lookup ({per_level} requests per level, at least 20 per client; anvil, "
                        f"SQLite; the API in its own process; medians of {runs} runs)")
    for col in ("path", "clients", "p50 ms", "p99 ms", "p99 of each run", "req/s"):
        table.add_column(col, justify="right")
    direct: list[float] = []
    for _ in range(50):
        t0 = time.perf_counter()
        _direct_lookup(ledger)
        direct.append((time.perf_counter() - t0) * 1000)
    table.add_row("chain_client direct", "1", f"{statistics.median(direct):.1f}", f"{_pct(direct, 0.99):.1f}", "", "")
    for clients in (1, 10, 50):
        p50s, p99s, rates = [], [], []
        for _ in range(runs):
            times, wall = asyncio.run(_load(port, f"/v1/public/batteries/{BATTERY}", clients,
                                            max(per_level, 20 * clients)))
            p50s.append(statistics.median(times))
            p99s.append(_pct(times, 0.99))
            rates.append(len(times) / wall)
        table.add_row("API GET /v1/public/batteries", str(clients), f"{statistics.median(p50s):.1f}",
                      f"{statistics.median(p99s):.1f}", " / ".join(f"{p:.0f}" for p in p99s),
                      f"{statistics.median(rates):.0f}")
    console.print(table)
    console.print("goal: p99 under 50 ms at 50 clients on this 2-core machine")


# writes -----------------------------------------------------------------------------------------------------------
def _direct(ledger: Ledger, a: dict[str, LocalAccount], writers: tuple[tuple[str, int, str], ...], count: int,
            tag: str) -> float:
    per = count // len(writers)

    def one(writer: tuple[str, int, str]) -> None:
        who, lot, to = writer
        for i in range(per):
            ledger.certificates.transfer(a[who], lot, a[to].address, 1, identifier(f"{tag}-{who}-{i}"))

    t0 = time.perf_counter()
    with ThreadPoolExecutor(len(writers)) as pool:
        list(pool.map(one, writers))
    return per * len(writers) / (time.perf_counter() - t0)


def _relayed(base: str, a: dict[str, LocalAccount], writers: tuple[tuple[str, int, str], ...], count: int,
             tag: str) -> float:
    per = count // len(writers)
    clients = {}
    for who, _, _ in writers:
        sdk = PortalClient(httpx.Client(base_url=base, timeout=60), a[who])
        sdk.sign_in()
        clients[who] = sdk

    def one(writer: tuple[str, int, str]) -> list[dict[str, Any]]:
        who, lot, to = writer
        sdk = clients[who]
        ids = [sdk.act(f"/v1/certification/lots/{lot}/transfers",
                       {"to": a[to].address, "grams": 1, "shipment_ref": f"{tag}-{who}-{i}"})["id"]
               for i in range(per)]
        return [sdk.wait(i, timeout=120, interval=0.02) for i in ids]

    t0 = time.perf_counter()
    with ThreadPoolExecutor(len(writers)) as pool:
        statuses = [s for batch in pool.map(one, writers) for s in batch]
    rate = per * len(writers) / (time.perf_counter() - t0)
    assert all(s["status"] == "mined" for s in statuses), statuses
    return rate


def _writes(console: Console, base: str, ledger: Ledger, a: dict[str, LocalAccount], count: int) -> float:
    """Both paths, one signer then three at once; returns the direct rate with three signers."""
    ledger.certificates.transfer(a["recycler"], 3, a["cell_maker"].address, 10_000, identifier("BENCH-SETUP"))
    table = Table(title=f"writes: {count} certified-quantity transfers per row pair (anvil, automine)")
    for col in ("signers at once", "path", "writes/s", "ratio"):
        table.add_column(col, justify="right")
    for writers in (WRITERS[:1], WRITERS):
        n = len(writers)
        direct = _direct(ledger, a, writers, count, f"D{n}")
        relayed = _relayed(base, a, writers, count, f"R{n}")
        table.add_row(str(n), "chain_client direct (each signer sends)", f"{direct:.1f}", "1.00")
        table.add_row(str(n), "API: prepare, sign locally, submit, relayed, mined", f"{relayed:.1f}",
                      f"{relayed / direct:.2f}")
    console.print(table)
    return direct


def _relayer_stage(console: Console, chain: ChainContext, ledger: Ledger, a: dict[str, LocalAccount], tmp: str,
                   count: int, direct: float) -> None:
    """The relayer alone: ``count`` transfers of three signers accepted into a fresh outbox (through the API, its
    relayer stopped), then relayed until all are mined; beside the direct rate of the same transfers."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import Settings

    settings = Settings(database_url=f"sqlite:///{tmp}/outbox.db", document_dir=Path(tmp) / "docs",
                        domain="testserver", uri="http://testserver")
    app = create_app(settings, chain)
    with TestClient(app) as http:
        per = count // len(WRITERS)
        for who, lot, to in WRITERS:
            sdk = PortalClient(http, a[who])
            for i in range(per):
                sdk.act(f"/v1/certification/lots/{lot}/transfers",
                        {"to": a[to].address, "grams": 1, "shipment_ref": f"O-{who}-{i}"})
        relayer = app.state.relayer
        t0 = time.perf_counter()
        done = 0
        while done < per * len(WRITERS):
            relayer.run_once()
            with app.state.engine.connect() as conn:
                counts = dict(conn.exec_driver_sql("SELECT status, count(*) FROM relay_request GROUP BY status").all())
            done, failed = int(counts.get("mined", 0)), int(counts.get("failed", 0))
            assert failed == 0, "a benchmark transfer failed"
        rate = done / (time.perf_counter() - t0)
    app.state.engine.dispose()
    console.print(f"relayer alone: {done} accepted requests of {len(WRITERS)} signers relayed and mined at "
                  f"{rate:.1f}/s = {rate / direct:.2f} of direct ({direct:.1f}/s, three signers, same run)")
    console.print("goal: at least 0.8 of direct")


# indexer ----------------------------------------------------------------------------------------------------------
def _indexer(console: Console, ledger: Ledger, chain: ChainContext, a: dict[str, LocalAccount], tmp: str,
             events: int, runs: int = 3) -> None:
    bid = in_service_battery(ledger, [f"KR:KCELL:EV:{n:07d}" for n in range(1, 6)])
    t0 = time.perf_counter()
    made = emit_evaluations(ledger, a["device"], a["storage"], bid, events)
    console.print(f"made {made:,} BatteryEvaluated events in {time.perf_counter() - t0:.0f} s (signed reports in "
                  "batches, transactions pipelined)")
    rates, counts = [], []
    for run in range(runs):
        engine = make_engine(f"sqlite:///{tmp}/catch-up-{run}.db")
        migrate(engine)
        t0 = time.perf_counter()
        stored = Indexer(chain, engine).rebuild()
        rates.append(stored / (time.perf_counter() - t0))
        counts.append(stored)
        engine.dispose()
    console.print(f"indexer catch-up from the deployment block into a fresh SQLite database: {counts[0]:,} events, "
                  f"median {statistics.median(rates):,.0f} events/s over {runs} runs "
                  f"({', '.join(f'{r:,.0f}' for r in rates)})")

