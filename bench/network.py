"""The ledger on a 3-sealer geth Clique network beside anvil, in the same run: throughput of a realistic mix of
acts (tx/s) with the same concurrency on both, and the time for an act to be reported final (K confirmations).

anvil mines every transaction at once (one node, no consensus); the Clique network seals one block per second
(period 1) and the client reports an act only once K blocks deep, so throughput there is bound by how many acts
are in flight, not by the EVM."""

from __future__ import annotations

import itertools
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from eth_account import Account
from rich.console import Console
from rich.table import Table
from web3.types import Wei

from chain_client.anvil import AnvilNode
from chain_client.backends import RpcBackend
from chain_client.certificates import LotApplication
from chain_client.failover import CLIQUE_CONFIRMATIONS
from chain_client.keys import dev_accounts
from chain_client.merkle import MerkleTree
from chain_client.network import up
from chain_client.passports import ModelSpec, battery_id
from chain_client.suite import Ledger, deploy
from chain_client.transactions import TxSender
from chain_client.vocabulary import BatteryCategory, BusinessRole, Feedstock, Material, identifier, short_string

DAY = 86_400
MIX = ("register a business", "apply for a lot", "transfer certified grams", "register a battery",
       "anchor a batch of 1,000")


def _prepare(backend: RpcBackend) -> Callable[[int], None]:
    """Deploys the suite, registers the parties, one plant, one model and a large certified lot; returns the act
    ``i`` of the mix (kinds in turn)."""
    names = ("gov", "moe", "motie", "molit", "recycler", "maker")
    a = dict(zip(names, dev_accounts(len(names)), strict=True))
    w3 = backend.w3
    sender = TxSender(w3)
    ledger = Ledger(w3, deploy(w3, sender, a["gov"], {m: a[m].address for m in ("moe", "motie", "molit")}), sender)
    ledger.registry.register(a["moe"], a["recycler"].address, [BusinessRole.RECYCLER])
    ledger.registry.register(a["motie"], a["maker"].address, [BusinessRole.CELL_MAKER])
    now = int(w3.eth.get_block("latest")["timestamp"])
    plant = identifier("BENCH-PLANT")
    ledger.registry.register_facility(a["moe"], plant, a["recycler"].address, now - 365 * DAY, now + 365 * DAY)
    ledger.passports.assign_prefix(a["motie"], "KR:BENCH", a["maker"].address)
    model = ledger.passports.register_model(a["maker"], "KR:BENCH:MODEL", ModelSpec(
        BatteryCategory.EV, frozenset({Material.LITHIUM}), 60_000))

    def application() -> LotApplication:
        return LotApplication(Material.LITHIUM, Feedstock.POST_CONSUMER, 10_000_000, short_string("Li2CO3"), plant,
                              now - 30 * DAY, now - DAY, b"\x11" * 32, b"\x22" * 32)

    lot = ledger.certificates.apply(a["recycler"], application())
    ledger.certificates.certify(a["moe"], lot)
    run_id = next(_runs)

    def act(i: int) -> None:
        kind = i % len(MIX)
        if kind == 0:
            ledger.registry.register(a["motie"], Account.create().address, [BusinessRole.CELL_MAKER])
        elif kind == 1:
            ledger.certificates.apply(a["recycler"], application())
        elif kind == 2:
            ledger.certificates.transfer(a["recycler"], lot, a["maker"].address, 1_000, identifier(f"SHIP-{i}"))
        elif kind == 3:
            ledger.passports.register(a["maker"], f"KR:BENCH:{run_id}:{i:06d}", model)
        else:
            tree = MerkleTree(battery_id(f"KR:BATCH:{run_id}:{i}:{n}") for n in range(1_000))
            ledger.passports.anchor_batch(a["maker"], model, tree.root, 1_000)

    return act


_runs = itertools.count()


def throughput(backend: RpcBackend, acts: int, concurrency: int) -> float:
    act = _prepare(backend)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(act, range(acts)))
    return acts / (time.perf_counter() - start)


def time_to_final(backend: RpcBackend, repeats: int = 5) -> float:
    """Median seconds from handing a signed transfer of value to the node until it is reported final."""
    payer, payee = dev_accounts(30)[28:30]
    sender = TxSender(backend.w3)
    lock = threading.Lock()
    times = []
    for _ in range(repeats):
        with lock:
            start = time.perf_counter()
            sender.send(payer, {"to": payee.address, "value": Wei(1), "gas": 21_000, "gasPrice": sender.gas_price,
                                "chainId": sender.chain_id})
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(console: Console, acts: int = 250, concurrency: int = 50) -> None:
    with AnvilNode() as anvil, tempfile.TemporaryDirectory() as tmp:
        network, _ = up(Path(tmp) / "net", validators=3)
        try:
            urls = network.urls
            anvil_tps = throughput(RpcBackend(anvil.url), acts, concurrency)
            clique_tps = throughput(RpcBackend(urls), acts, concurrency)
            final_anvil = time_to_final(RpcBackend(anvil.url))
            final_k1 = time_to_final(RpcBackend(urls, confirmations=1))
            final_k = time_to_final(RpcBackend(urls))
        finally:
            network.down()
    table = Table(title=f"realistic mix ({', '.join(MIX)}), {acts} acts, {concurrency} in flight")
    for col in ("chain", "acts/s", "ratio to anvil", "time to final (median of 5)"):
        table.add_column(col, justify="right")
    table.add_row("anvil (anchor: one node, instant mining)", f"{anvil_tps:.1f}", "1.00", f"{final_anvil:.2f} s (K=1)")
    table.add_row(f"geth Clique, 3 sealers, 1 s blocks, K={CLIQUE_CONFIRMATIONS}", f"{clique_tps:.1f}",
                  f"{clique_tps / anvil_tps:.2f}", f"{final_k:.2f} s (K={CLIQUE_CONFIRMATIONS}); {final_k1:.2f} s (K=1)")
    console.print(table)
