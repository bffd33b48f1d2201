"""Gas of the fair-trade and recycling acts, and the time of the statistics (``python -m bench market``).

Runs the demo (whose last chapter trades used batteries and declares recycling periods) on a fresh anvil node, then
reads the gas of each act from its receipt (median over the demo's acts of that kind) and times
``statistics.compute`` and the charts (median of 3)."""

from __future__ import annotations

import io
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from chain_client.anvil import AnvilNode
from chain_client.backends import RpcBackend
from chain_client.charts import write_charts
from chain_client.demo import run_demo
from chain_client.price_store import PriceStore
from chain_client.statistics import compute
from chain_client.suite import Ledger
from chain_client.transactions import TxSender

ACTS = (("UsedBatteryTrades", "TradeRecorded", "record a sale of 1 battery"),
        ("UsedBatteryTrades", "DeliveryConfirmed", "confirm delivery"),
        ("UsedBatteryTrades", "PaymentRecorded", "record payment"),
        ("UsedBatteryTrades", "DisputeOpened", "open a dispute"),
        ("UsedBatteryTrades", "DisputeClosed", "close a dispute"),
        ("RecyclingEfficiency", "DeclarationSubmitted", "declare a recycling period"),
        ("RecyclingEfficiency", "DeclarationAttested", "attest a declaration (MoE)"))


def _median_time(action: object, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(console: Console) -> None:
    with AnvilNode() as node, tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        result = run_demo(RpcBackend(node.url), Console(file=io.StringIO()), data)
        assert result.deployment is not None
        backend = RpcBackend(node.url)
        suite = Ledger(backend.w3, result.deployment, TxSender(backend.w3))
        table = Table(title="Fair trade and recycling acts (gas, median over the demo's acts; anvil)")
        for col in ("act", "gas", "acts"):
            table.add_column(col, justify="right")
        for contract_name, event, label in ACTS:
            contract = suite.trades.contract if contract_name == "UsedBatteryTrades" else suite.recycling.contract
            logs = getattr(contract.events, event)().get_logs(from_block=result.deployment.block_number)
            gas = [int(backend.w3.eth.get_transaction_receipt(e["transactionHash"])["gasUsed"]) for e in logs]
            table.add_row(label, f"{int(statistics.median(gas)):,}", str(len(gas)))
        console.print(table)
        prices = PriceStore.in_data_dir(data)
        seconds = _median_time(lambda: compute(suite, "authority", prices, data))
        stats = compute(suite, "authority", prices, data)
        charts = _median_time(lambda: write_charts(stats, data / "charts"))
        console.print(f"statistics of the demo's deployment (authority tier, one eth_getLogs): {seconds:.2f} s; "
                      f"the 4 charts as PNG and SVG: {charts:.2f} s (medians of 3)")
