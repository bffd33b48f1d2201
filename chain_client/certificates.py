"""Typed client of ProductionCertificates (Ministry of Environment)."""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import TxReceipt

from chain_client.client import ContractClient
from chain_client.errors import decodes_reverts
from chain_client.events import event_args
from chain_client.vocabulary import Feedstock, LotStatus, Material

ZERO32 = b"\x00" * 32


@dataclass(frozen=True)
class LotApplication:
    """What a recycler applies for. ``chemical_form`` is a short string in 32 bytes (see ``short_string``)."""

    material: Material
    feedstock: Feedstock
    mass_grams: int
    chemical_form: bytes
    facility_id: bytes
    period_start: int
    period_end: int
    source_root: bytes = ZERO32
    evidence_hash: bytes = ZERO32

    def as_tuple(self) -> tuple[object, ...]:
        return (int(self.material), int(self.feedstock), self.mass_grams, self.chemical_form, self.facility_id,
                self.period_start, self.period_end, self.source_root, self.evidence_hash)


@dataclass(frozen=True)
class Lot:
    lot_id: int
    recycler: str
    material: Material
    feedstock: Feedstock
    status: LotStatus
    decided_at: int
    mass_grams: int
    applied_at: int
    period_end: int
    application_hash: bytes


class Certificates(ContractClient):
    def apply(self, recycler: LocalAccount, application: LotApplication) -> int:
        """Applies for a lot and returns its id."""
        receipt = self.submit(recycler, self.contract.functions.applyForLot(application.as_tuple()))
        return int(event_args(self.contract, "LotApplied", receipt)["lotId"])

    def certify(self, moe: LocalAccount, lot_id: int) -> TxReceipt:
        return self.submit(moe, self.contract.functions.certifyLot(lot_id))

    def reject(self, moe: LocalAccount, lot_id: int, reason_hash: bytes = ZERO32) -> TxReceipt:
        return self.submit(moe, self.contract.functions.rejectLot(lot_id, reason_hash))

    def revoke(self, moe: LocalAccount, lot_id: int, reason_hash: bytes = ZERO32) -> TxReceipt:
        return self.submit(moe, self.contract.functions.revokeLot(lot_id, reason_hash))

    def transfer(self, holder: LocalAccount, lot_id: int, to: str, grams: int, shipment_ref: bytes) -> TxReceipt:
        return self.submit(holder, self.contract.functions.transfer(
            lot_id, Web3.to_checksum_address(to), grams, shipment_ref))

    @decodes_reverts
    def consumed(self, consumer: str, claim_id: int, lot_id: int, holder: str) -> int:
        """Grams of ``lot_id`` that ``consumer`` consumed from ``holder`` for ``claim_id`` and has not released."""
        return int(self.contract.functions.consumed(Web3.to_checksum_address(consumer), claim_id, lot_id,
                                                    Web3.to_checksum_address(holder)).call())

    @decodes_reverts
    def lot(self, lot_id: int) -> Lot:
        recycler, mass, material, feedstock, status, period_end, applied, decided, app_hash = (
            self.contract.functions.lot(lot_id).call())
        return Lot(lot_id, recycler, Material(material), Feedstock(feedstock), LotStatus(status), decided, mass,
                   applied, period_end, bytes(app_hash))

    @decodes_reverts
    def balance(self, lot_id: int, holder: str) -> int:
        return int(self.contract.functions.balanceOf(lot_id, Web3.to_checksum_address(holder)).call())

    @decodes_reverts
    def lot_count(self) -> int:
        return int(self.contract.functions.lotCount().call())
