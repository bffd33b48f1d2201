"""Statistics from the chain's events: the price index and its privacy rule, the price store against the on-chain
commitments, the unfair-practice signals, and `bledger stats --charts` on a deployment the demo left on a node."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from chain_client.anvil import AnvilNode
from chain_client.backends import RpcBackend
from chain_client import rule_changes
from chain_client.cli import app
from chain_client.demo import run_demo
from chain_client.errors import LedgerError
from chain_client.keys import dev_accounts
from chain_client.passports import battery_id
from chain_client.price_store import PriceRecord, PriceStore, check_price
from chain_client.statistics import compute, metal_family, quarter_of, round_significant
from chain_client.trades import DEFAULT_TRADE_POLICY, Sale, TradePolicy, price_commitment
from chain_client.vocabulary import Material, document_hash
from tests.conftest import DAY, MODEL, World

TERMS = document_hash("standard terms v1")
runner = CliRunner()


def sell(w: World, store: PriceStore, seller: str, n: int, price: int, soh: int = 8_000) -> int:
    """A removed, evaluated, inspected battery of ``seller`` sold to the reuser at ``price`` KRW."""
    p = w.ledger.passports
    name = f"KR:KCELL:EV:S{n:04d}"
    bid = battery_id(name)
    p.register(w.cell_maker, name, MODEL)
    p.transfer(w.cell_maker, bid, w.ev_maker.address)
    p.put_in_service(w.ev_maker, bid, b"\x0e" * 32)
    w.evaluate(bid, soh)
    if seller != "ev_maker":
        p.transfer(w.ev_maker, bid, w.accounts[seller].address)
    p.mark_removed(w.accounts[seller], bid)
    w.inspect(bid)
    salt = bytes([n]) * 32
    trade_id = w.ledger.trades.record_sale(w.accounts[seller], Sale(
        w.reuser.address, [bid], TERMS, w.chain_time() + 30 * DAY, price_commitment(price, "KRW", salt)))
    store.put(w.sender.chain_id, w.ledger.trades.address, PriceRecord(trade_id, price, "KRW", salt))
    return trade_id


def test_helpers() -> None:
    assert quarter_of(1_767_225_600) == "2026-Q1"  # 2026-01-01
    assert round_significant(59_333.3) == 59_000 and round_significant(0) == 0
    assert metal_family({Material.LITHIUM, Material.NICKEL, Material.COBALT}) == "Li-Ni-Co"
    assert metal_family({Material.LITHIUM}).startswith("Li (no Ni/Co")
    assert metal_family({Material.LEAD}) == "lead-acid"


def test_an_index_cell_is_published_only_with_k_trades_from_two_sellers(world: World) -> None:
    w, t = world, world.ledger.trades
    store = PriceStore(":memory:")
    t.set_standard_terms(w.motie, TERMS)
    w.govern(rule_changes.trade_policy(w.ledger, TradePolicy(3, DEFAULT_TRADE_POLICY.price_deviation_bps,
                                                             DEFAULT_TRADE_POLICY.trade_authority)))  # k: governed
    sell(w, store, "ev_maker", 1, 3_600_000)
    sell(w, store, "ev_maker", 2, 3_000_000)
    (cell,) = compute(w.ledger, "public", store).price_index
    assert (cell.grade, cell.chemistry, cell.trades, cell.mean_per_kwh) == ("upper", "Li-Ni-Co", 2, None)  # below k
    sell(w, store, "ev_maker", 3, 3_300_000)
    (cell,) = compute(w.ledger, "public", store).price_index
    assert (cell.trades, cell.mean_per_kwh) == (3, None)  # k trades, but all from one seller: withheld
    fourth = sell(w, store, "dismantler", 4, 6_000_000)
    stats = compute(w.ledger, "public", store)
    (cell,) = stats.price_index
    # 60 kWh per battery: (60,000 + 50,000 + 55,000 + 100,000) / 4 = 66,250 KRW/kWh, two significant digits
    assert (cell.trades, cell.mean_per_kwh, cell.currency) == (4, 66_000, "KRW")
    assert stats.signals == [] and stats.declarations == []  # the public tier has no signals
    signals = compute(w.ledger, "authority", store).signals
    assert any(f"trade #{fourth}" in s and "far from the index" in s for s in signals)
    w.govern(rule_changes.trade_policy(w.ledger, TradePolicy(5, 3_000, DEFAULT_TRADE_POLICY.trade_authority)))
    assert compute(w.ledger, "public", store).price_index[0].mean_per_kwh is None  # index cell below k


def test_a_price_that_does_not_open_its_commitment_is_refused_and_left_out(world: World) -> None:
    w, t = world, world.ledger.trades
    store = PriceStore(":memory:")
    t.set_standard_terms(w.motie, TERMS)
    trade_id = sell(w, store, "ev_maker", 1, 3_600_000)
    chain = w.sender.chain_id
    assert check_price(store, t, chain, trade_id).price == 3_600_000
    with pytest.raises(LedgerError, match="no price is stored"):
        check_price(PriceStore(":memory:"), t, chain, trade_id)
    with pytest.raises(LedgerError, match="does not exist"):
        check_price(store, t, chain, 99)
    store.put(chain, t.address, PriceRecord(trade_id, 3_000_000, "KRW", bytes([1]) * 32))  # tampered
    with pytest.raises(LedgerError, match="does not match the on-chain commitment"):
        check_price(store, t, chain, trade_id)
    stats = compute(w.ledger, "authority", store)
    assert stats.price_index == []
    assert any(f"no stored price opens the commitment of trade #{trade_id}" in s for s in stats.signals)


def test_stats_command_on_a_deployment_the_demo_left_on_a_node(tmp_path: Path) -> None:
    data, dep, charts = tmp_path / "data", tmp_path / "deployment.json", tmp_path / "charts"
    with AnvilNode() as node:
        result = run_demo(RpcBackend(node.url), Console(file=io.StringIO()), data)  # prices: data/prices.sqlite
        assert result.deployment is not None and result.market is not None
        result.deployment.save(dep)
        node_args = ["--rpc", node.url, "--deployment", str(dep), "--data", str(data)]
        out = runner.invoke(app, ["stats", "--charts", str(charts), *node_args])
        assert out.exit_code == 0, out.output
        assert "51,000 KRW" in out.output and "withheld (< k)" in out.output and "NMC811" in out.output
        assert "lithium-based" in out.output and "signals" not in out.output  # public tier
        files = sorted(p.name for p in charts.iterdir())
        assert files == sorted(f"{n}.{e}" for n in ("life_cycle", "materials", "trades", "recycling")
                               for e in ("png", "svg"))
        assert (charts / "trades.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert b"<svg" in (charts / "recycling.svg").read_bytes()[:2_000]
        authority = runner.invoke(app, ["stats", "--tier", "authority", "--json", *node_args])
        assert authority.exit_code == 0, authority.output
        s = json.loads(authority.output)
        late = result.market.late_trade
        assert any(f"late payment: trade #{late}" in line for line in s["signals"])
        assert any("repeated disputes: 2 against" in line for line in s["signals"])
        assert [d["meets_efficiency"] for d in s["declarations"]] == [True, False]
        assert s["trade_volume"] and s["batteries_by_status"]["Recycled"] == 2
        ok = runner.invoke(app, ["trade", "check-price", str(late), *node_args])
        assert ok.exit_code == 0 and "opens the on-chain commitment" in ok.output
        PriceStore.in_data_dir(data).put(result.deployment.chain_id, result.deployment.contracts[
            "UsedBatteryTrades"], PriceRecord(late, 1, "KRW", b"\x00" * 32))
        bad = runner.invoke(app, ["trade", "check-price", str(late), *node_args])
        assert bad.exit_code == 1 and "does not match the on-chain commitment" in bad.output
        assert "Traceback" not in bad.output
        declared = runner.invoke(app, ["recycle", "show", "2", "--year", "2030", *node_args[:4]])
        assert declared.exit_code == 0 and "efficiency 60.00 % (target 70 %" in declared.output
        trade_commands(tmp_path, node_args[:4], node_args[4:])


def trade_commands(tmp: Path, node: list[str], data: list[str]) -> None:
    """The trade commands on the demo's deployment (dev keys in the demo's order of parties)."""
    moe, motie, recycler, dismantler, reuser = "dev:1", "dev:2", "dev:5", "dev:10", "dev:11"
    recycler_address = dev_accounts(6)[5].address

    def run(*args: str, key: str, ok: bool = True) -> str:
        result = runner.invoke(app, [*args, *node, "--key", key])
        assert (result.exit_code == 0) == ok, result.output
        assert "Traceback" not in result.output
        return result.output

    terms = tmp / "terms-v2.md"
    terms.write_text("standard terms, version 2")
    assert "published" in run("trade", "terms", str(terms), key=motie)
    assert "AccessControlUnauthorizedAccount" in run("trade", "terms", str(terms), key=moe, ok=False)
    sale = ["trade", "sell", recycler_address, "KR:KCELL:EV:USED0001", "--terms", str(terms), "--due", "2030-01-31",
            "--price", "2000000", *data]
    assert "RegistryMissingRole" in run(*sale, key="dev:8", ok=False)  # the importer does not trade batteries
    out = run(*sale, key=reuser)  # the repurposing business resells a battery it bought
    assert "trade #9 recorded" in out and "grades: upper" in out
    assert "TradeNotBuyer" in run("trade", "confirm", "9", key=reuser, ok=False)  # the wrong side
    assert "TradeCustodyNotMoved" in run("trade", "confirm", "9", key=recycler, ok=False)
    run("trade", "pay", "9", key=recycler)
    assert "TradeAlreadyPaid" in run("trade", "pay", "9", key=recycler, ok=False)
    reason = tmp / "reason.txt"
    reason.write_text("battery not delivered")
    run("trade", "dispute", "9", "--reason", str(reason), key=recycler)
    assert "TradeNotParty" in run("trade", "dispute", "9", "--reason", str(reason), key=dismantler, ok=False)
    run("trade", "close", "9", "upheld", "--resolution", str(reason), key=motie)
    shown = json.loads(runner.invoke(app, ["trade", "show", "9", *node]).output)
    assert shown["disputes"] == 1 and shown["batteries"][0]["grade"] == "upper"
    assert "opens the on-chain commitment" in runner.invoke(app, ["trade", "check-price", "9", *node, *data]).output
    assert "RecyclingInvalidStatus" in run("recycle", "decide", "attest", "1", key=moe, ok=False)


def test_charts_of_an_empty_ledger(tmp_path: Path) -> None:
    """A fresh deployment has nothing to count: the charts still draw (the dashboard of a new portal)."""
    from chain_client.charts import write_charts
    from chain_client.statistics import Statistics

    files = write_charts(Statistics("public"), tmp_path)
    assert files and all(f.stat().st_size > 0 for f in files)
