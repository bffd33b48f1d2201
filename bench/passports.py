"""Battery registration at scale: gas per battery (single vs Merkle batch, beside an ERC-721 mint), wall time of a
file import of 100,000, 1,000,000 and 3,000,000 batteries (the embedded chain up to 1,000,000; anvil all three, with
the time per 100,000 at each size), and proof generation and verification per battery.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.gas import REPEATS, compile_anchor
from chain_client.anvil import AnvilNode
from chain_client.backends import Backend, EmbeddedBackend, RpcBackend
from chain_client.battery_import import import_file, proof_for
from chain_client.battery_index import BatteryIndex
from chain_client.merkle import MerkleTree, verify
from chain_client.suite import Ledger, deploy, deploy_contract
from chain_client.transactions import TxSender
from chain_client.passports import ModelSpec, battery_id
from chain_client.vocabulary import BatteryCategory, BusinessRole, Material, identifier

MODEL_NAME = "KR:BENCH:MODEL-NCM811"


def setup(backend: Backend) -> tuple[Ledger, TxSender, list]:
    gov, motie, maker, other, moe, molit = backend.funded_accounts(6)
    accounts = [gov, motie, maker, other]
    sender = TxSender(backend.w3)
    ledger = Ledger(backend.w3, deploy(backend.w3, sender, gov, {"moe": moe.address, "motie": motie.address,
                                                                 "molit": molit.address}), sender)
    ledger.registry.register(motie, maker.address, [BusinessRole.CELL_MAKER])
    ledger.passports.assign_prefix(motie, "KR:BENCH", maker.address)
    ledger.passports.register_model(maker, MODEL_NAME, ModelSpec(BatteryCategory.EV, frozenset({Material.LITHIUM}),
                                                                 60_000))
    return ledger, sender, accounts


#: Issue 15's targets: a single registration at most one ERC-721 mint (next id), a batch battery's own record at
#: most 1.2 of them, batch registration under 15 gas per battery at 10,000 per batch.
SINGLE_TARGET, MATERIALIZE_TARGET, BATCH_TARGET_GAS = 1.0, 1.2, 15.0


def target_line(name: str, ours: float, anchor: float, anchor_name: str, limit: float) -> str:
    """``target NAME: OURS gas vs ANCHOR gas = RATIO (met|NOT met)``: met when OURS <= LIMIT x ANCHOR."""
    ratio = ours / anchor
    digits = 2 if ours < 1_000 else 0
    return (f"target {name}: {ours:,.{digits}f} gas vs {anchor_name} {anchor:,.0f} gas = {ratio:.2f} "
            f"(<= {limit:g}: {'met' if ratio <= limit else 'NOT met'})")


def gas_figures(backend: Backend, console: Console) -> None:
    ledger, sender, (gov, _motie, maker, other) = setup(backend)
    p, model = ledger.passports, identifier(MODEL_NAME)
    erc721 = compile_anchor("AnchorERC721")
    token = deploy_contract(backend.w3, sender, gov, erc721.abi, erc721.bytecode)
    first_mint = sender.submit(gov, token.functions.mint(other.address, 1))["gasUsed"]
    next_mint = statistics.median(sender.submit(gov, token.functions.mint(other.address, 2 + i))["gasUsed"]
                                  for i in range(REPEATS))
    single = statistics.median(p.register(maker, f"KR:BENCH:SINGLE-{i}", model)["gasUsed"]
                               for i in range(REPEATS))
    table = Table(title=f"Gas per battery on {backend.name} (median of {REPEATS})")
    for col in ("registration", "gas per battery", "vs ERC-721 mint (next)"):
        table.add_column(col, justify="right")
    table.add_row("ERC-721 mint, first / next (anchor)", f"{first_mint:,} / {next_mint:,.0f}", "1.00")
    table.add_row("single registerBattery", f"{single:,.0f}", f"{single / next_mint:.2f}")
    for size in (1_000, 10_000, 100_000):
        names = [f"KR:BENCH:B{size}-{i}" for i in range(size)]
        ids = [battery_id(n) for n in names]
        tree = MerkleTree(ids)
        gas = p.submit(maker, p.contract.functions.anchorBatch(model, tree.root, size, b"\x01" * 32))["gasUsed"]
        table.add_row(f"batch of {size:,} (anchorBatch)", f"{gas / size:,.2f}", f"{gas / size / next_mint:.5f}")
        if size == 10_000:
            per_battery_10k = gas / size
            batch_id = p.batch_count()
            materialize = statistics.median(
                p.materialize(other, batch_id, names[i], tree.proof(ids[i]))["gasUsed"] for i in range(REPEATS))
    table.add_row("batch battery's own record on its first act (materialize, 10k batch)", f"{materialize:,.0f}",
                  f"{materialize / next_mint:.2f}")
    console.print(table)
    console.print(target_line("register one battery", single, next_mint, "ERC-721 mint (next id)", SINGLE_TARGET))
    console.print(target_line("materialize a batch battery", materialize, next_mint, "ERC-721 mint (next id)",
                              MATERIALIZE_TARGET))
    console.print(target_line("batch registration per battery at 10,000 per batch", per_battery_10k,
                              BATCH_TARGET_GAS, "limit", 1.0))


def write_file(path: Path, count: int) -> None:
    with path.open("w") as f:
        f.write("batteryPassportIdentifier,batteryModel\n")
        f.writelines(f"KR:KCELL:EV:{i:08d},{MODEL_NAME}\n" for i in range(count))


def import_times(url: str | None, sizes: list[int], repeats: int,
                 console: Console) -> dict[int, float]:
    """Median wall time of importing each size into a fresh index and a fresh suite (``repeats`` runs up to
    100,000 batteries, one run above)."""
    results: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            path = Path(tmp) / f"batteries-{size}.csv"
            write_file(path, size)
            times = []
            for r in range(repeats if size <= 100_000 else 1):
                backend: Backend = EmbeddedBackend() if url is None else RpcBackend(url)
                backend.name = "embedded" if url is None else "anvil"
                ledger, _sender, (_g, _m, maker, _o) = setup(backend)
                index = BatteryIndex(Path(tmp) / f"index-{size}-{r}-{time.monotonic_ns()}.sqlite")
                start = time.perf_counter()
                report = import_file(path, ledger.passports, maker, index, Path(tmp) / f"batches-{size}-{r}")
                times.append(time.perf_counter() - start)
                assert report.batteries == size
                if r == 0 and size == sizes[0]:
                    proof_figures(index, ledger, backend.name, console)
                index.close()
            results[size] = statistics.median(times)
            path.unlink()
    return results


def proof_figures(index: BatteryIndex, ledger: Ledger, backend_name: str, console: Console) -> None:
    name = "KR:KCELL:EV:00000042"
    start = time.perf_counter()
    batch, proof = proof_for(index, name)
    cold = time.perf_counter() - start
    tree = MerkleTree(battery_id(f"KR:KCELL:EV:{i:08d}") for i in range(batch.first_line - 2, batch.last_line - 1))
    n = 2_000
    ids = [battery_id(f"KR:KCELL:EV:{i:08d}") for i in range(n)]
    start = time.perf_counter()
    proofs = [tree.proof(i) for i in ids]
    gen = (time.perf_counter() - start) / n
    start = time.perf_counter()
    assert all(verify(tree.root, i, pr) for i, pr in zip(ids, proofs, strict=True))
    ver = (time.perf_counter() - start) / n
    start = time.perf_counter()
    for i in range(200):
        assert ledger.passports.is_in_batch(batch.batch_id, ids[i], proofs[i])
    onchain = (time.perf_counter() - start) / 200
    console.print(f"({backend_name}) proof of one battery from its batch file (rebuild {batch.count:,}-leaf tree): {cold * 1e3:.1f} ms; "
                  f"from a built tree: {gen * 1e6:.1f} µs; verify in Python: {ver * 1e6:.1f} µs; "
                  f"verify on-chain (eth_call isInBatch): {onchain * 1e3:.2f} ms; proof length {len(proof)} hashes")


def run(console: Console, sizes: list[int], repeats: int) -> None:
    """Gas figures, then import wall times: on the embedded chain up to 1,000,000 batteries, on anvil every size
    (100,000, 1,000,000 and 3,000,000 in the full run), with the time per 100,000 and its growth."""
    gas_figures(EmbeddedBackend(), console)
    embedded = import_times(None, [s for s in sizes if s <= 1_000_000], repeats, console)
    with AnvilNode() as node:
        anvil = import_times(node.url, sizes, repeats, console)
    table = Table(title=f"Import wall time (CSV -> 10k-battery batches anchored; median of {repeats} up to 100k, "
                        "one run above)")
    for col in ("batteries", "embedded", "anvil", "anvil per 100,000"):
        table.add_column(col, justify="right")
    for size in sizes:
        emb = f"{embedded[size]:.1f} s ({size / embedded[size]:,.0f}/s)" if size in embedded else "-"
        table.add_row(f"{size:,}", emb, f"{anvil[size]:.1f} s ({size / anvil[size]:,.0f}/s)",
                      f"{anvil[size] / size * 100_000:.2f} s")
    console.print(table)
    per = {size: anvil[size] / size * 100_000 for size in sizes}
    base = per[sizes[0]]
    growth = ", ".join(f"{size:,}: {per[size]:.2f} s ({per[size] / base:.2f}x)" for size in sizes)
    console.print(f"time per 100,000 batteries on anvil at {growth} (linear: 1.00x)")
    if 1_000_000 in sizes:
        one_m = anvil[1_000_000]
        console.print(f"target 1,000,000 batteries imported in under 20 s on anvil: {one_m:.1f} s "
                      f"({'met' if one_m < 20 else 'NOT met'}); per 100,000 at 1M vs at 100k = "
                      f"{per[1_000_000] / base:.2f}"
                      + (f", at 3M vs at 100k = {per[3_000_000] / base:.2f}" if 3_000_000 in sizes else ""))
