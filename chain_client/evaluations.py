"""Typed client of PerformanceEvaluations, and EIP-712 signing of measurement reports by a device key."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass
from enum import IntEnum
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from chain_client.client import ContractClient
from chain_client.errors import LedgerError, decodes_reverts
from chain_client.rules import GradingPolicy

DOMAIN_NAME, DOMAIN_VERSION = "BatteryLedgerEvaluations", "1"

REPORT_TYPES = {
    "MeasurementReport": [
        {"name": "batteryId", "type": "bytes32"},
        {"name": "stateOfHealthBps", "type": "uint16"},
        {"name": "remainingCapacityWh", "type": "uint32"},
        {"name": "resistanceIncreaseBps", "type": "uint16"},
        {"name": "cycleCount", "type": "uint32"},
        {"name": "faultFlags", "type": "uint32"},
        {"name": "measuredAt", "type": "uint64"},
        {"name": "evidenceHash", "type": "bytes32"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint64"},
    ]
}


class Grade(IntEnum):
    NONE = 0
    UPPER = 1  # remanufacture
    MIDDLE = 2  # reuse
    LOWER = 3  # recycle


@dataclass(frozen=True)
class MeasurementReport:
    battery_id: bytes
    state_of_health_bps: int
    remaining_capacity_wh: int
    resistance_increase_bps: int
    cycle_count: int
    fault_flags: int
    measured_at: int
    evidence_hash: bytes
    nonce: int
    deadline: int

    def as_tuple(self) -> tuple[object, ...]:
        return astuple(self)

    def as_message(self) -> dict[str, object]:
        names = [f["name"] for f in REPORT_TYPES["MeasurementReport"]]
        return dict(zip(names, self.as_tuple(), strict=True))


@dataclass(frozen=True)
class SignedReport:
    report: MeasurementReport
    signature: bytes


@dataclass(frozen=True)
class Evaluation:
    grade: Grade
    policy_version: int
    state_of_health_bps: int
    measured_at: int
    evaluator: str
    device: str
    report_digest: bytes


DEVICE_REGISTRATION_TYPES = {"DeviceRegistration": [{"name": "evaluator", "type": "address"}]}


def _domain(chain_id: int, contract: str) -> dict[str, object]:
    return {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": chain_id,
            "verifyingContract": Web3.to_checksum_address(contract)}


def sign_device_registration(device: LocalAccount, evaluator: str, chain_id: int, contract: str) -> bytes:
    """The device's proof that it holds its key: its EIP-712 signature over the evaluator's address, bound to the
    chain and the evaluations contract (so nobody can register another evaluator's device as their own)."""
    signed = device.sign_typed_data(domain_data=_domain(chain_id, contract), message_types=DEVICE_REGISTRATION_TYPES,
                                    message_data={"evaluator": Web3.to_checksum_address(evaluator)})
    return bytes(signed.signature)


def sign_report(device: LocalAccount, report: MeasurementReport, chain_id: int, contract: str) -> SignedReport:
    """The device's EIP-712 signature over ``report`` (domain: name, version, chainId, verifying contract)."""
    signed = device.sign_typed_data(domain_data=_domain(chain_id, contract), message_types=REPORT_TYPES, message_data=report.as_message())
    return SignedReport(report, bytes(signed.signature))


class Evaluations(ContractClient):
    def register_device(self, evaluator: LocalAccount, device: LocalAccount | str, proof: bytes | None = None
                        ) -> TxReceipt:
        """Registers ``device`` for ``evaluator``. Given the device's key, signs its proof of possession here;
        given only its address, ``proof`` is the signature the device made (see :func:`sign_device_registration`)."""
        if isinstance(device, str):
            if proof is None:
                raise ValueError("registering a device by address needs the device's proof signature")
            address = Web3.to_checksum_address(device)
        else:
            address = device.address
            proof = sign_device_registration(device, evaluator.address, int(self.contract.w3.eth.chain_id),
                                             self.address)
        return self.submit(evaluator, self.contract.functions.registerDevice(address, proof))

    def revoke_device(self, caller: LocalAccount, device: str) -> TxReceipt:
        return self.submit(caller, self.contract.functions.revokeDevice(Web3.to_checksum_address(device)))

    def set_policy(self, governance: LocalAccount, policy: GradingPolicy) -> TxReceipt:
        return self.submit(governance, self.contract.functions.setGradingPolicy(policy.as_tuple()))

    def submit_report(self, relayer: LocalAccount, signed: SignedReport) -> TxReceipt:
        return self.submit(relayer, self.contract.functions.submitReport(signed.report.as_tuple(), signed.signature))

    def submit_reports(self, relayer: LocalAccount, signed: Sequence[SignedReport], gas: int | None = None) -> TxReceipt:
        return self.submit(relayer, self.contract.functions.submitReports(
            [s.report.as_tuple() for s in signed], [s.signature for s in signed]), gas)

    def recorded_in(self, receipt: TxReceipt) -> list[bytes]:
        """Digests of the reports a transaction recorded."""
        from chain_client.events import events_in

        return [bytes(e["reportDigest"]) for e in events_in(self.contract, "BatteryEvaluated", receipt)]

    @decodes_reverts
    def nonce(self, device: str) -> int:
        return int(self.contract.functions.nonces(Web3.to_checksum_address(device)).call())

    @decodes_reverts
    def evaluation(self, battery: bytes) -> Evaluation:
        e = self.contract.functions.evaluation(battery).call()
        return Evaluation(Grade(e[0]), e[1], e[2], e[3], e[4], e[5], bytes(e[6]))

    @decodes_reverts
    def grade_of(self, report: MeasurementReport, policy_version: int) -> Grade:
        return Grade(self.contract.functions.gradeOf(report.as_tuple(), policy_version).call())

    @decodes_reverts
    def digest(self, report: MeasurementReport) -> bytes:
        return bytes(self.contract.functions.reportDigest(report.as_tuple()).call())

    @decodes_reverts
    def device_of(self, device: str) -> tuple[str, bool]:
        evaluator, revoked = self.contract.functions.deviceOf(Web3.to_checksum_address(device)).call()
        return evaluator, bool(revoked)

    @decodes_reverts
    def policy_count(self) -> int:
        return int(self.contract.functions.policyCount().call())

    def recorded_reports(self, battery: bytes, forwarder: Contract | None = None,
                         from_block: int = 0) -> list[RecordedReport]:
        """Every measurement report recorded for ``battery``, oldest first, recovered from the calldata of the
        transactions that recorded them (direct, batched, or relayed through ``forwarder``) and checked against the
        digest the contract stored: the full signed values, not only those the event carries."""
        w3 = self.contract.w3
        logs = self.contract.events.BatteryEvaluated().get_logs(
            from_block=from_block, argument_filters={"batteryId": battery})
        found: list[RecordedReport] = []
        for log in logs:
            digest = bytes(log["args"]["reportDigest"])
            tx = w3.eth.get_transaction(log["transactionHash"])
            for report in self._reports_in(bytes(tx["input"]), str(tx["to"]), forwarder):
                if report.battery_id == battery and self.digest(report) == digest:
                    block = w3.eth.get_block(log["blockNumber"])
                    found.append(RecordedReport(report, Grade(log["args"]["grade"]), int(log["args"]["policyVersion"]),
                                                log["args"]["evaluator"], log["args"]["device"], digest,
                                                int(log["blockNumber"]), int(block["timestamp"])))
                    break
            else:
                raise LedgerError(f"evaluation {digest.hex()} of 0x{battery.hex()}: the recording transaction's "
                                  "calldata holds no report with that digest")
        return found

    def _reports_in(self, data: bytes, to: str, forwarder: Contract | None) -> list[MeasurementReport]:
        if forwarder is not None and Web3.to_checksum_address(to) == forwarder.address:
            fn, args = forwarder.decode_function_input(data)
            requests = [args["request"]] if fn.fn_name == "execute" else list(args["requests"])
            return [r for req in requests if Web3.to_checksum_address(req[1]) == self.contract.address
                    for r in self._reports_in(bytes(req[5]), self.contract.address, None)]
        if Web3.to_checksum_address(to) != self.contract.address:
            return []
        fn, args = self.contract.decode_function_input(data)
        if fn.fn_name == "submitReport":
            return [MeasurementReport(*_report_fields(args["report"]))]
        if fn.fn_name == "submitReports":
            return [MeasurementReport(*_report_fields(r)) for r in args["reports"]]
        return []


@dataclass(frozen=True)
class RecordedReport:
    """A measurement report as the chain recorded it, with the grade it was given and when."""

    report: MeasurementReport
    grade: Grade
    policy_version: int
    evaluator: str
    device: str
    digest: bytes
    block_number: int
    recorded_at: int


def _report_fields(raw: Any) -> tuple[Any, ...]:
    values = tuple(raw.values()) if isinstance(raw, dict) else tuple(raw)
    return (bytes(values[0]), *values[1:7], bytes(values[7]), *values[8:])
