"""Client throughput on one anvil node started for the run: the library's pipelined stream of certificate transfers
beside a raw web3 send-only loop of plain ETH transfers (the anchor), and beside the same transfers sent one by one,
each awaiting its receipt.

* raw loop (anchor): plain ETH transfers signed locally (eth-account), ``send_raw_transaction`` on a bare web3
  HTTP provider, every receipt awaited at the end;
* pipelined: ``ProductionCertificates.transfer`` of a certified lot between registered holders through
  ``TxSender.pipeline()`` and the typed client (``certs.via(p).transfer``): local nonces, gas estimated once for the
  stream and given, signed locally, broadcast, all receipts awaited at the end;
* one by one: the same transfer through ``certs.transfer`` (each awaits its receipt).
"""

from __future__ import annotations

import statistics
import time

from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.table import Table
from web3 import HTTPProvider, Web3
from web3.exceptions import TransactionNotFound
from web3.types import Nonce, TxParams, Wei

from chain_client.anvil import AnvilNode
from chain_client.backends import RpcBackend
from chain_client.certificates import LotApplication
from chain_client.suite import Ledger, deploy
from chain_client.transactions import GAS_MARGIN, TxSender
from chain_client.vocabulary import BusinessRole, Feedstock, Material, identifier, short_string

TARGET = 0.9
DAY = 86_400
FACILITY = identifier("KR-BENCH-PLANT-1")


def raw_send_loop(url: str, payer: LocalAccount, to: str, count: int) -> float:
    """tx/s of ``count`` plain ETH transfers: signed locally, sent raw, receipts awaited at the end."""
    w3 = Web3(HTTPProvider(url))
    chain_id, gas_price = w3.eth.chain_id, w3.eth.gas_price
    nonce = w3.eth.get_transaction_count(payer.address, "pending")
    start = time.perf_counter()
    hashes = []
    for i in range(count):
        tx: TxParams = {"to": to, "value": Wei(1), "gas": 21_000, "gasPrice": Wei(gas_price), "chainId": chain_id,
                        "nonce": Nonce(nonce + i)}
        hashes.append(w3.eth.send_raw_transaction(payer.sign_transaction(tx).raw_transaction))  # type: ignore[arg-type]
    for h in hashes:
        while True:
            try:
                receipt = w3.eth.get_transaction_receipt(h)
                break
            except TransactionNotFound:
                time.sleep(0.005)
        assert receipt["status"] == 1
    return count / (time.perf_counter() - start)


class Setup:
    """The suite deployed on the node, a recycler holding a large certified lot, a cell maker to receive."""

    def __init__(self, url: str) -> None:
        backend = self.backend = RpcBackend(url)
        gov, moe, motie, molit, recycler, cell_maker, payer, payee = backend.funded_accounts(8)
        self.sender = TxSender(backend.w3)
        deployment = deploy(backend.w3, self.sender, gov,
                            {"moe": moe.address, "motie": motie.address, "molit": molit.address})
        self.ledger = Ledger(backend.w3, deployment, self.sender)
        reg = self.ledger.registry
        reg.register(moe, recycler.address, [BusinessRole.RECYCLER])
        reg.register(motie, cell_maker.address, [BusinessRole.CELL_MAKER])
        now = int(backend.w3.eth.get_block("latest")["timestamp"])
        reg.register_facility(moe, FACILITY, recycler.address, now - 365 * DAY, now + 365 * DAY)
        certs = self.ledger.certificates
        self.lot = certs.apply(recycler, LotApplication(Material.LITHIUM, Feedstock.POST_CONSUMER, 10**12,
                                                        short_string("Li2CO3"), FACILITY, now - 30 * DAY, now - DAY))
        certs.certify(moe, self.lot)
        self.recycler, self.cell_maker, self.payer, self.payee = recycler, cell_maker, payer, payee
        # the first transfer creates the recipient's balance; later ones (the measured stream) add to it
        certs.transfer(recycler, self.lot, cell_maker.address, 1, identifier("SHIP-BENCH-FIRST"))
        call = certs.contract.functions.transfer(self.lot, cell_maker.address, 1, identifier("SHIP-BENCH-0"))
        self.gas = int(self.sender.estimate(recycler.address, call) * GAS_MARGIN)
        self.shipments = 0
        self._snapshot = backend.snapshot()

    def fresh(self) -> None:
        """Back to the state right after the set-up (every run starts from the same chain)."""
        self.backend.revert(self._snapshot)
        self._snapshot = self.backend.snapshot()
        self.sender.nonces.reset()

    def _ref(self) -> bytes:
        self.shipments += 1
        return identifier(f"SHIP-BENCH-{self.shipments}")

    def pipelined(self, count: int, estimate: bool = False) -> float:
        """tx/s of ``count`` transfers through one pipeline: gas given (estimated once above), or ``estimate``d per
        act by the typed client."""
        transfer = self.ledger.certificates.contract.functions.transfer
        start = time.perf_counter()
        with self.sender.pipeline() as p:
            certs = self.ledger.certificates.via(p)
            for _ in range(count):
                if estimate:
                    certs.transfer(self.recycler, self.lot, self.cell_maker.address, 1, self._ref())
                else:
                    p.add(self.recycler, transfer(self.lot, self.cell_maker.address, 1, self._ref()), gas=self.gas)
        elapsed = time.perf_counter() - start
        assert all(a.result()["status"] == 1 for a in p.acts)
        return count / elapsed

    def one_by_one(self, count: int) -> float:
        certs = self.ledger.certificates
        start = time.perf_counter()
        for _ in range(count):
            certs.transfer(self.recycler, self.lot, self.cell_maker.address, 1, self._ref())
        return count / (time.perf_counter() - start)


def run(console: Console, count: int = 1_000, runs: int = 3) -> None:
    """Raw loop and pipelined stream alternate (raw, pipelined, raw, ...) on the same node, each run from the same
    chain state (snapshot and revert), so that both see the same node and the same machine load; one by one runs
    once when ``count`` is large."""
    raws, ours = [], []
    # without --prune-history anvil keeps every block's state and slows down as the run adds thousands of blocks
    # (from ~220 to ~60 tx/s over 6,000 blocks); pruned, each run sees the same node
    with AnvilNode(extra_args=["--prune-history"]) as node:
        s = Setup(node.url)
        for _ in range(runs):
            s.fresh()
            raws.append(raw_send_loop(node.url, s.payer, s.payee.address, count))
            s.fresh()
            ours.append(s.pipelined(count))
        single_runs = 1 if count > 200 else runs
        singles = []
        for _ in range(single_runs):
            s.fresh()
            singles.append(s.one_by_one(count))
        single = statistics.median(singles)
    raw, mine = statistics.median(raws), statistics.median(ours)
    table = Table(title=f"Throughput on anvil, {count:,} transactions per run (median of {runs}, raw and pipelined "
                        f"alternating; one by one: {single_runs} run)")
    for col in ("stream", "tx/s", "runs", "vs raw send loop"):
        table.add_column(col, justify="right")
    table.add_row("raw web3 send loop, plain ETH transfers (anchor)", f"{raw:,.0f}",
                  " / ".join(f"{r:,.0f}" for r in raws), "1.00")
    table.add_row("certificate transfers, pipelined (TxSender.pipeline)", f"{mine:,.0f}",
                  " / ".join(f"{r:,.0f}" for r in ours), f"{mine / raw:.2f}")
    table.add_row("certificate transfers, one by one (each awaits its receipt)", f"{single:,.0f}", "",
                  f"{single / raw:.2f}")
    console.print(table)
    ratio = mine / raw
    console.print(f"target pipelined transfers vs raw send loop: {mine:,.0f} tx/s vs {raw:,.0f} tx/s = {ratio:.2f} "
                  f"({'met' if ratio >= TARGET else 'NOT met'}; target >= {TARGET})")
