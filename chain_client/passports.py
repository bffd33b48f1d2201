"""Typed client of BatteryPassports (the battery life-cycle record)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import TxReceipt

from chain_client.client import ContractClient
from chain_client.errors import LedgerError, decodes_reverts
from chain_client.events import event_args
from chain_client.vocabulary import BatteryCategory, BatteryStatus, Material, identifier

ZERO32 = b"\x00" * 32


def battery_id(text: str) -> bytes:
    """On-chain id of a battery: keccak256 of its canonical ISO/IEC 15459-style identifier."""
    return identifier(text)


def issuer_prefix(text: str) -> str:
    """The issuer prefix ``IAC:CIN`` of an identifier or model name ``IAC:CIN:rest``."""
    parts = text.strip().split(":", 2)
    if len(parts) < 3 or not all(parts):
        raise ValueError(f"{text!r} is not of the form IAC:CIN:rest (issuing agency code, company number, rest)")
    return f"{parts[0]}:{parts[1]}"


@dataclass(frozen=True)
class ModelSpec:
    """What a maker registers on-chain for a model: its category, the metals its registered composition contains,
    its rated energy, and whether it is an industrial battery with exclusively external storage (Article 8)."""

    category: BatteryCategory
    metals: frozenset[Material]
    rated_energy_wh: int
    external_storage_only: bool = False
    data_hash: bytes = ZERO32

    def as_tuple(self) -> tuple[object, ...]:
        mask = 0
        for m in self.metals:
            mask |= 1 << int(m)
        return (int(self.category), mask, self.external_storage_only, self.rated_energy_wh, self.data_hash)


@dataclass(frozen=True)
class Model:
    model_id: bytes
    manufacturer: str
    category: BatteryCategory
    registered_at: int
    metals: frozenset[Material]
    external_storage_only: bool
    rated_energy_wh: int
    data_hash: bytes


@dataclass(frozen=True)
class Battery:
    battery_id: bytes
    operator: str
    status: BatteryStatus
    closed: bool
    sequence: int
    updated_at: int
    model_id: bytes
    link: bytes


@dataclass(frozen=True)
class Batch:
    batch_id: int
    manufacturer: str
    count: int
    anchored_at: int
    model_id: bytes
    root: bytes
    data_hash: bytes


@dataclass(frozen=True)
class HistoryEntry:
    sequence: int
    status: BatteryStatus
    actor: str
    operator: str
    link: bytes
    evidence_hash: bytes
    block_number: int
    transaction_hash: str


class Passports(ContractClient):
    # writes ------------------------------------------------------------------------------------------------
    def assign_prefix(self, authority: LocalAccount, prefix: str, holder: str) -> TxReceipt:
        """An authority assigns the issuer prefix ``IAC:CIN`` to a cell maker or reuse business, for good."""
        return self.submit(authority, self.contract.functions.assignIssuerPrefix(
            prefix.strip(), Web3.to_checksum_address(holder)))

    def register_model(self, maker: LocalAccount, name: str, spec: ModelSpec) -> bytes:
        """Registers model ``name`` (under an issuer prefix of the maker) and returns its id."""
        self.submit(maker, self.contract.functions.registerModel(name.strip(), spec.as_tuple()))
        return identifier(name)

    def register(self, maker: LocalAccount, battery: str, model_id: bytes, record_hash: bytes = ZERO32) -> TxReceipt:
        """Registers battery ``battery`` (its identifier string, under an issuer prefix of the maker)."""
        return self.submit(maker, self.contract.functions.registerBattery(battery.strip(), model_id, record_hash))

    def anchor_batch(self, maker: LocalAccount, model_id: bytes, root: bytes, count: int,
                     data_hash: bytes = ZERO32) -> int:
        receipt = self.submit(maker, self.contract.functions.anchorBatch(model_id, root, count, data_hash))
        return int(event_args(self.contract, "BatchAnchored", receipt)["batchId"])

    def materialize(self, caller: LocalAccount, batch_id: int, battery: str, proof: Sequence[bytes]) -> TxReceipt:
        """Gives batch member ``battery`` (its identifier string) its own record, by proof."""
        return self.submit(caller, self.contract.functions.materialize(batch_id, battery.strip(), list(proof)))

    def transfer(self, operator: LocalAccount, battery: bytes, to: str, evidence: bytes = ZERO32) -> TxReceipt:
        return self.submit(operator, self.contract.functions.transferCustody(
            battery, Web3.to_checksum_address(to), evidence))

    def put_in_service(self, ev_maker: LocalAccount, battery: bytes, vin_hash: bytes,
                       evidence: bytes = ZERO32) -> TxReceipt:
        return self.submit(ev_maker, self.contract.functions.putInService(battery, vin_hash, evidence))

    def mark_removed(self, operator: LocalAccount, battery: bytes, evidence: bytes = ZERO32) -> TxReceipt:
        return self.submit(operator, self.contract.functions.markRemoved(battery, evidence))

    def start_second_life(self, operator: LocalAccount, battery: bytes, successor: str, status: BatteryStatus,
                          evidence: bytes = ZERO32, successor_model: bytes = ZERO32) -> TxReceipt:
        """Opens the linked passport of ``successor`` (its identifier string, under the operator's issuer prefix),
        of ``successor_model`` (one of the operator's models; zero keeps the original's model)."""
        return self.submit(operator, self.contract.functions.startSecondLife(
            battery, successor.strip(), successor_model, int(status), evidence))

    def record_installation(self, operator: LocalAccount, battery: bytes, site_hash: bytes,
                            evidence: bytes = ZERO32) -> TxReceipt:
        return self.submit(operator, self.contract.functions.recordInstallation(battery, site_hash, evidence))

    def mark_waste(self, operator: LocalAccount, battery: bytes, evidence: bytes = ZERO32) -> TxReceipt:
        return self.submit(operator, self.contract.functions.markWaste(battery, evidence))

    def mark_recycled(self, recycler: LocalAccount, battery: bytes, lot_id: int,
                      evidence: bytes = ZERO32) -> TxReceipt:
        return self.submit(recycler, self.contract.functions.markRecycled(battery, lot_id, evidence))

    # reads -------------------------------------------------------------------------------------------------
    @decodes_reverts
    def model(self, model_id: bytes) -> Model:
        m = self.contract.functions.model(model_id).call()
        metals = frozenset(mat for mat in Material if m[3] & (1 << int(mat)))
        return Model(model_id, m[0], BatteryCategory(m[1]), m[2], metals, bool(m[4]), m[5], bytes(m[6]))

    @decodes_reverts
    def issuer_of(self, prefix: str) -> str:
        """The holder of issuer prefix ``prefix`` (the zero address if unassigned)."""
        return str(self.contract.functions.issuerOf(identifier(prefix)).call())

    @decodes_reverts
    def battery(self, battery: bytes) -> Battery:
        """The record of ``battery`` as stored (one call). The hash of its latest restricted record is the evidence
        hash of its latest history entry, kept in that event rather than in storage: :meth:`record_hash`, or the last
        entry of :meth:`history` where the history is read anyway."""
        b = self.contract.functions.battery(battery).call()
        return Battery(battery, b[0], BatteryStatus(b[1]), b[2], b[3], b[4], bytes(b[5]), bytes(b[6]))

    @decodes_reverts
    def status_of(self, battery: bytes) -> BatteryStatus:
        return BatteryStatus(self.contract.functions.statusOf(battery).call())

    def record_hash(self, battery: bytes, sequence: int, from_block: int = 0) -> bytes:
        """The evidence hash of history entry ``sequence`` of ``battery`` (zero for entry 0, none). A node that does not
        return the entry's log (pruned history, a log query limit) raises :class:`LedgerError`: never a silent zero."""
        if sequence == 0:
            return ZERO32
        logs = self.contract.events.BatteryEventRecorded().get_logs(
            from_block=from_block, argument_filters={"batteryId": battery, "sequence": sequence})
        if not logs:
            raise LedgerError(f"the node returned no history entry {sequence} of battery 0x{battery.hex()}: it may "
                              "have pruned old logs; read from a node that keeps the suite's full history")
        return bytes(logs[-1]["args"]["evidenceHash"])

    @decodes_reverts
    def batch(self, batch_id: int) -> Batch:
        b = self.contract.functions.batch(batch_id).call()
        return Batch(batch_id, b[0], b[1], b[2], bytes(b[3]), bytes(b[4]), bytes(b[5]))

    @decodes_reverts
    def batch_count(self) -> int:
        return int(self.contract.functions.batchCount().call())

    @decodes_reverts
    def is_in_batch(self, batch_id: int, battery: bytes, proof: Sequence[bytes]) -> bool:
        return bool(self.contract.functions.isInBatch(batch_id, battery, list(proof)).call())

    def history(self, battery: bytes, from_block: int = 0) -> list[HistoryEntry]:
        """Every recorded event of ``battery``, in order (read from the chain's logs)."""
        logs = self.contract.events.BatteryEventRecorded().get_logs(
            from_block=from_block, argument_filters={"batteryId": battery})
        entries = [HistoryEntry(e["args"]["sequence"], BatteryStatus(e["args"]["status"]), e["args"]["actor"],
                                e["args"]["operator"], bytes(e["args"]["link"]), bytes(e["args"]["evidenceHash"]),
                                e["blockNumber"], e["transactionHash"].hex()) for e in logs]
        return sorted(entries, key=lambda h: h.sequence)

    def batches_anchored_by(self, manufacturer: str, from_block: int = 0) -> dict[bytes, int]:
        """Root -> batch id of every batch ``manufacturer`` anchored (for resuming an import)."""
        logs = self.contract.events.BatchAnchored().get_logs(
            from_block=from_block, argument_filters={"manufacturer": Web3.to_checksum_address(manufacturer)})
        return {bytes(e["args"]["root"]): int(e["args"]["batchId"]) for e in logs}

    def registered_batch(self, battery: bytes, from_block: int = 0) -> int:
        """The batch a battery was materialized from (0: registered on its own, or a second-life passport)."""
        logs = self.contract.events.BatteryRegistered().get_logs(
            from_block=from_block, argument_filters={"batteryId": battery})
        return int(logs[0]["args"]["batchId"]) if logs else 0
