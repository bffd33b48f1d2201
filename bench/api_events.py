"""Many suite events on anvil, quickly, for the indexer's catch-up benchmark: evaluation reports signed by the demo's
device and submitted in batches (``PerformanceEvaluations.submitReports``, one ``BatteryEvaluated`` event per
report), the batches sent as real signed transactions with successive nonces without waiting for each receipt.

The reports are signed over their EIP-712 digest (computed here from ``chain_client.evaluations.REPORT_TYPES`` and the
contract's domain, and checked against the contract's own ``reportDigest`` for the first report), which is what
``sign_report`` signs, without its per-call typed-data machinery: 100,000 signatures take seconds, not minutes.
"""

from __future__ import annotations

from collections.abc import Callable

from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.types import Nonce, TxParams, Wei

from chain_client.evaluations import REPORT_TYPES, MeasurementReport, SignedReport, _domain
from chain_client.passports import battery_id
from chain_client.suite import Ledger
from chain_client.vocabulary import BatteryStatus, document_hash


class ReportSigner:
    """EIP-712 digests of measurement reports for one evaluations contract, signed with the device's key."""

    def __init__(self, device: LocalAccount, chain_id: int, contract: str) -> None:
        self.device = device
        fields = REPORT_TYPES["MeasurementReport"]
        self.types = ["bytes32"] + [f["type"] for f in fields]
        self.typehash = keccak(text="MeasurementReport(" + ",".join(f"{f['type']} {f['name']}" for f in fields) + ")")
        self.names = [f["name"] for f in fields]
        domain = _domain(chain_id, contract)  # the domain sign_report signs under
        probe = MeasurementReport(b"\0" * 32, 0, 0, 0, 0, 0, 0, b"\0" * 32, 0, 0)
        self.domain_separator = bytes(encode_typed_data(domain_data=domain, message_types=REPORT_TYPES,
                                                        message_data=probe.as_message()).header)

    def digest(self, report: MeasurementReport) -> bytes:
        message = report.as_message()
        struct = keccak(encode(self.types, [self.typehash] + [message[n] for n in self.names]))
        return keccak(b"\x19\x01" + self.domain_separator + struct)

    def sign(self, report: MeasurementReport) -> SignedReport:
        signed = Account.unsafe_sign_hash(self.digest(report), self.device.key)
        return SignedReport(report, bytes(signed.signature))


def in_service_battery(ledger: Ledger, candidates: list[str]) -> bytes:
    for name in candidates:
        bid = battery_id(name)
        if ledger.passports.battery(bid).status == BatteryStatus.IN_SERVICE:
            return bid
    raise RuntimeError(f"none of {candidates} is in service")


def emit_evaluations(ledger: Ledger, device: LocalAccount, relayer: LocalAccount, battery: bytes, events: int,
                     per_tx: int = 400, progress: Callable[[int], None] | None = None) -> int:
    """Submits ``events`` evaluation reports of ``battery`` in transactions of ``per_tx`` reports, pipelined (all
    signed with successive nonces and broadcast, then the receipts followed). Returns the number of events."""
    w3 = ledger.w3
    ev = ledger.evaluations
    chain_id = ledger.deployment.chain_id
    signer = ReportSigner(device, chain_id, ev.address)
    now = int(w3.eth.get_block("latest")["timestamp"])
    first_nonce = ev.nonce(device.address)
    reports = [MeasurementReport(battery, 7_000 + n % 2_000, 50_000, 1_500, 1_000 + n, 0, now - 60,
                                 document_hash(f"bench report {n}"), first_nonce + n, now + 30 * 86_400)
               for n in range(events)]
    if signer.digest(reports[0]) != ev.digest(reports[0]):
        raise RuntimeError("the report digest computed here differs from the contract's reportDigest")
    signed = [signer.sign(r) for r in reports]
    gas_price = int(w3.eth.gas_price)
    nonce = int(w3.eth.get_transaction_count(relayer.address, "pending"))
    gas: int | None = None
    hashes = []
    for start in range(0, len(signed), per_tx):
        chunk = signed[start:start + per_tx]
        call = ev.contract.functions.submitReports([s.report.as_tuple() for s in chunk], [s.signature for s in chunk])
        if gas is None:  # the same shape each time: estimated once (a fresh evaluation slot costs the most)
            gas = int(call.estimate_gas({"from": relayer.address}) * 1.3)
        tx: TxParams = {"from": relayer.address, "gas": gas, "gasPrice": Wei(gas_price), "chainId": chain_id,
                        "nonce": Nonce(nonce)}
        raw = relayer.sign_transaction(call.build_transaction(tx)).raw_transaction  # type: ignore[arg-type]
        hashes.append(w3.eth.send_raw_transaction(raw))
        nonce += 1
        if progress:
            progress(start + len(chunk))
    emitted = 0
    for h in hashes:
        receipt = w3.eth.wait_for_transaction_receipt(h, timeout=600, poll_latency=0.05)
        if receipt["status"] != 1:
            raise RuntimeError(f"report batch {h.hex()} failed")
        emitted += len(receipt["logs"])
    return emitted
