"""Gas per operation of the certification contracts, beside anchors deployed and measured in the same run:
an OpenZeppelin 5.4.0 ERC-1155 mint (new id) and an Ethereum Attestation Service 1.9.0 ``attest``.

Gas is deterministic for a given state, so each figure is the median of a few repetitions on fresh inputs.

Why a transfer to a new recipient costs more than an ERC-1155 mint: both write a fresh balance slot (20,000 +
2,100 cold access) on top of the 21,000 base, which is ~86 % of the mint. A transfer must in addition debit the
sender (5,000), read the lot's status (2,100) and ask the registry about both parties (an external call and two cold
reads, ~7,000). A transfer to a holder that already has a balance in the lot rewrites a warm-able slot instead and
beats the mint.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.table import Table
from web3 import Web3
from web3.types import TxReceipt

from chain_client.backends import Backend
from chain_client.build import NODE_MODULES, Artifact, collect_sources, compile_sources
from chain_client.certificates import LotApplication
from chain_client.claims import Allocation, ClaimRequest
from chain_client.passports import ModelSpec
from chain_client.suite import Ledger, deploy, deploy_contract
from chain_client.transactions import TxSender
from chain_client.vocabulary import (
    BatteryCategory,
    BusinessRole,
    CustodyModel,
    Feedstock,
    Material,
    identifier,
    short_string,
)

REPEATS = 5
DAY = 86_400
EAS_ARTIFACTS = NODE_MODULES / "@ethereum-attestation-service" / "eas-contracts" / "artifacts" / "contracts"


@dataclass
class Figure:
    name: str
    gas: int
    note: str = ""


def median_gas(action: Callable[[int], TxReceipt]) -> int:
    return int(statistics.median(action(i)["gasUsed"] for i in range(REPEATS)))


def compile_anchor(name: str) -> Artifact:
    """Compiles ``bench/anchors/NAME.sol`` with the project's pinned compiler and settings."""
    return compile_sources(collect_sources([f"bench/anchors/{name}.sol"]), "solcjs")[name]


def anchors(w3: Web3, sender: TxSender, account: LocalAccount) -> dict[str, Figure]:
    """ERC-1155 mint (new id) and EAS attest with 32 B and 128 B of data."""
    erc1155 = compile_anchor("AnchorERC1155")
    token = deploy_contract(w3, sender, account, erc1155.abi, erc1155.bytecode)
    holder = Web3.to_checksum_address("0x" + "ab" * 20)
    mint = median_gas(lambda i: sender.submit(account, token.functions.mint(holder, 1_000 + i, 500_000)))
    # safeTransferFrom of part of an id the sender holds, to an address that holds none of it yet.
    for i in range(REPEATS):
        sender.submit(account, token.functions.mint(account.address, 2_000 + i, 500_000))
    transfer = median_gas(lambda i: sender.submit(account, token.functions.safeTransferFrom(
        account.address, Web3.to_checksum_address(f"0x{0xcd00 + i:040x}"), 2_000 + i, 100_000, b"")))

    def eas_artifact(name: str) -> dict:
        return json.loads((EAS_ARTIFACTS / f"{name}.sol" / f"{name}.json").read_text())

    reg_art, eas_art = eas_artifact("SchemaRegistry"), eas_artifact("EAS")
    schema_registry = deploy_contract(w3, sender, account, reg_art["abi"], reg_art["bytecode"])
    eas = deploy_contract(w3, sender, account, eas_art["abi"], eas_art["bytecode"], schema_registry.address)
    zero = "0x" + "00" * 20
    receipt = sender.submit(account, schema_registry.functions.register("bytes32 lotCommitment", zero, True))
    schema_uid = schema_registry.events.Registered().process_receipt(receipt)[0]["args"]["uid"]

    def attest(size: int) -> int:
        return median_gas(lambda i: sender.submit(account, eas.functions.attest(
            (schema_uid, (holder, 0, True, b"\x00" * 32, bytes([i + 1]) * size, 0)))))

    return {
        "erc1155": Figure("OpenZeppelin ERC-1155 mint, new id", mint, "anchor"),
        "erc1155-transfer": Figure("OpenZeppelin ERC-1155 safeTransferFrom, new holder", transfer, "anchor"),
        "eas32": Figure("EAS attest, 32 B data", attest(32), "anchor"),
        "eas128": Figure("EAS attest, 128 B data", attest(128), "anchor"),
    }


def ours(backend: Backend) -> dict[str, Figure]:
    w3 = backend.w3
    gov, moe, motie, portal, recycler, cell_maker, processor, molit = backend.funded_accounts(8)
    sender = TxSender(w3)
    deployment = deploy(w3, sender, gov, {"moe": moe.address, "motie": motie.address, "molit": molit.address})
    ledger = Ledger(w3, deployment, sender)
    reg, certs, claims = ledger.registry, ledger.certificates, ledger.claims
    reg.register(moe, recycler.address, [BusinessRole.RECYCLER])
    reg.register(motie, cell_maker.address, [BusinessRole.CELL_MAKER])
    reg.register(motie, processor.address, [BusinessRole.MATERIAL_PROCESSOR])
    ledger.passports.assign_prefix(motie, "KR:BENCH", cell_maker.address)
    model = ledger.passports.register_model(cell_maker, "KR:BENCH:MODEL", ModelSpec(
        BatteryCategory.EV, frozenset({Material.LITHIUM, Material.NICKEL, Material.COBALT}), 60_000))
    now = int(w3.eth.get_block("latest")["timestamp"])
    plant = identifier("BENCH-PLANT")
    reg.register_facility(moe, plant, recycler.address, now - 365 * DAY, now + 365 * DAY)

    def application(i: int) -> LotApplication:
        return LotApplication(Material(i % 3), Feedstock.POST_CONSUMER, 1_000_000 + i, short_string("NiSO4"), plant,
                              now - 30 * DAY, now - DAY, identifier(f"src-{i}"), identifier(f"evidence-{i}"))

    apply_gas, certify_gas, lots = [], [], []
    for i in range(REPEATS + 12):
        r = sender.submit(recycler, certs.contract.functions.applyForLot(application(i).as_tuple()))
        lot_id = certs.lot_count()
        apply_gas.append(r["gasUsed"])
        certify_gas.append(certs.certify(moe, lot_id)["gasUsed"])
        lots.append(lot_id)
    apply_med, certify_med = int(statistics.median(apply_gas)), int(statistics.median(certify_gas))

    ship = [identifier(f"SHIP-{i}") for i in range(100)]
    first = median_gas(lambda i: certs.transfer(recycler, lots[i], cell_maker.address, 600_000, ship[i]))
    repeat = median_gas(lambda i: certs.transfer(recycler, lots[i], cell_maker.address, 100_000, ship[20 + i]))
    relayed = ledger.relayed(sender, portal)
    relayed_gas = median_gas(lambda i: relayed.certificates.transfer(recycler, lots[i], processor.address, 1_000,
                                                                     ship[40 + i]))
    for lot_id in lots[REPEATS:]:
        certs.transfer(recycler, lot_id, cell_maker.address, 700_000, ship[60 + lot_id])

    def claim(allocs: list[Allocation]) -> ClaimRequest:
        return ClaimRequest(model, identifier("PLANT"), now - 90 * DAY, now - DAY,
                            CustodyModel.MASS_BALANCE, {m: 100_000_000 for m in Material if m <= Material.COBALT}, allocs)

    open_one = median_gas(lambda i: sender.submit(cell_maker, claims.contract.functions.openClaim(
        claim([Allocation(lots[i], 1_000)]).as_tuple())))
    open_ten = median_gas(lambda i: sender.submit(cell_maker, claims.contract.functions.openClaim(
        claim([Allocation(lots[REPEATS + k], 1_000 + i) for k in range(10)]).as_tuple())))
    attest_one = median_gas(lambda i: claims.attest(motie, i + 1))
    attest_ten = median_gas(lambda i: claims.attest(motie, REPEATS + i + 1))
    return {
        "apply": Figure("apply for a lot (recycler)", apply_med),
        "certify": Figure("certify a lot (MoE)", certify_med),
        "apply+certify": Figure("apply + certify", apply_med + certify_med),
        "transfer": Figure("transfer part of a lot, new recipient", first),
        "transfer-again": Figure("transfer part of a lot, recipient already holds it", repeat),
        "transfer-relayed": Figure("transfer, signed by holder, relayed by portal", relayed_gas,
                                   "ERC-2771 forwarder"),
        "open1": Figure("open usage claim, 1 allocation", open_one),
        "open10": Figure("open usage claim, 10 allocations", open_ten),
        "attest1": Figure("attest claim of 1 allocation (MOTIE)", attest_one),
        "attest10": Figure("attest claim of 10 allocations (MOTIE)", attest_ten),
    }


def run(backend: Backend, console: Console) -> dict[str, Figure]:
    sender = TxSender(backend.w3)
    account = backend.funded_accounts(10)[9]
    figures = {**anchors(backend.w3, sender, account), **ours(backend)}
    table = Table(title=f"Gas per operation on {backend.name} (total gasUsed incl. 21,000 base; median of {REPEATS})")
    table.add_column("operation")
    table.add_column("gas", justify="right")
    table.add_column("vs EAS attest 32 B", justify="right")
    table.add_column("vs ERC-1155 mint", justify="right")
    for f in figures.values():
        table.add_row(f.name + (f" [dim]({f.note})[/dim]" if f.note else ""), f"{f.gas:,}",
                      f"{f.gas / figures['eas32'].gas:.2f}", f"{f.gas / figures['erc1155'].gas:.2f}")
    console.print(table)
    eas = figures["eas32"].gas
    open_attest_one = figures["open1"].gas + figures["attest1"].gas
    per_allocation = ((figures["open10"].gas + figures["attest10"].gas) - open_attest_one) / 9
    # Issue 15's targets: (name, ours, anchor name, anchor gas, at most this ratio).
    targets: list[tuple[str, float, str, float, float]] = [
        ("apply + certify a lot <= 0.6 EAS attest", figures["apply+certify"].gas, "EAS attest 32 B", eas, 0.6),
        ("open + attest a 1-allocation claim <= 1.0 EAS attest", open_attest_one, "EAS attest 32 B", eas, 1.0),
        ("each further allocation (open + attest) <= 0.15 EAS attest", per_allocation, "EAS attest 32 B", eas, 0.15),
        ("transfer to a new holder <= ERC-1155 safeTransferFrom to a new holder", figures["transfer"].gas,
         "ERC-1155 safeTransferFrom", figures["erc1155-transfer"].gas, 1.0),
        ("transfer to a new holder <= ERC-1155 mint", figures["transfer"].gas, "ERC-1155 mint",
         figures["erc1155"].gas, 1.0),
    ]
    for label, ours_gas, anchor_label, anchor_gas, limit in targets:
        ratio = ours_gas / anchor_gas
        verdict = "met" if ratio <= limit else "NOT met"
        console.print(f"target {label}: {ours_gas:,.0f} gas vs {anchor_label} {anchor_gas:,.0f} gas = {ratio:.3f} "
                      f"({verdict})", soft_wrap=True)
    return figures
