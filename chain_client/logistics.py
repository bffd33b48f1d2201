"""Typed clients of SafetyInspections and TransportStorage."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import TxReceipt

from chain_client.client import ContractClient
from chain_client.errors import decodes_reverts
from chain_client.rules import InspectionPolicy

ZERO32 = b"\x00" * 32


class InspectionKind(IntEnum):
    PRE_DISTRIBUTION = 0
    POST_DISTRIBUTION = 1


@dataclass(frozen=True)
class Inspection:
    body: str
    passed: bool
    inspected_at: int
    valid_until: int
    findings_hash: bytes


@dataclass(frozen=True)
class Site:
    operator: str
    capacity_wh: int
    stored_wh: int
    permit_hash: bytes


class Inspections(ContractClient):
    def record(self, body: LocalAccount, battery: bytes, kind: InspectionKind, passed: bool, valid_until: int,
               findings_hash: bytes = ZERO32) -> TxReceipt:
        return self.submit(body, self.contract.functions.recordInspection(
            battery, int(kind), passed, valid_until, findings_hash))

    def set_policy(self, governance: LocalAccount, policy: InspectionPolicy) -> TxReceipt:
        return self.submit(governance, self.contract.functions.setPolicy(policy.as_tuple()))

    @decodes_reverts
    def policy(self) -> InspectionPolicy:
        return InspectionPolicy(*self.contract.functions.policy().call())

    @decodes_reverts
    def inspection(self, battery: bytes, kind: InspectionKind) -> Inspection:
        i = self.contract.functions.inspection(battery, int(kind)).call()
        return Inspection(i[0], i[1], i[2], i[3], bytes(i[4]))


class Logistics(ContractClient):
    """Transport legs and storage sites."""

    def set_max_soc(self, governance: LocalAccount, max_soc_bps: int) -> TxReceipt:
        return self.submit(governance, self.contract.functions.setMaxStateOfCharge(max_soc_bps))

    def ship(self, transporter: LocalAccount, battery: bytes, from_: str, to: str, soc_bps: int,
             packaging_class: int, evidence: bytes = ZERO32) -> TxReceipt:
        return self.submit(transporter, self.contract.functions.recordShipmentLeg(
            battery, Web3.to_checksum_address(from_), Web3.to_checksum_address(to), soc_bps, packaging_class,
            evidence))

    def register_site(self, operator: LocalAccount, site_id: bytes, capacity_wh: int,
                      permit_hash: bytes = ZERO32) -> TxReceipt:
        return self.submit(operator, self.contract.functions.registerSite(site_id, capacity_wh, permit_hash))

    def intake(self, operator: LocalAccount, site_id: bytes, battery: bytes, energy_wh: int) -> TxReceipt:
        return self.submit(operator, self.contract.functions.intake(site_id, battery, energy_wh))

    def release(self, operator: LocalAccount, site_id: bytes, battery: bytes) -> TxReceipt:
        return self.submit(operator, self.contract.functions.release(site_id, battery))

    @decodes_reverts
    def site(self, site_id: bytes) -> Site:
        s = self.contract.functions.site(site_id).call()
        return Site(s[0], s[1], s[2], bytes(s[3]))

    @decodes_reverts
    def max_soc_bps(self) -> int:
        return int(self.contract.functions.maxStateOfChargeBps().call())

    @decodes_reverts
    def site_of(self, battery: bytes) -> bytes:
        """The site where ``battery`` is stored (32 zero bytes if none)."""
        return bytes(self.contract.functions.siteOf(battery).call())

    @decodes_reverts
    def stored_energy(self, site_id: bytes, battery: bytes) -> int:
        return int(self.contract.functions.storedEnergy(site_id, battery).call())

    def shipments(self, battery: bytes, from_block: int = 0) -> list[ShipmentLeg]:
        """Every shipment leg of ``battery``, oldest first, with the state of charge it travelled at."""
        w3 = self.contract.w3
        legs = []
        for log in self.contract.events.ShipmentLegRecorded().get_logs(
                from_block=from_block, argument_filters={"batteryId": battery}):
            a = log["args"]
            legs.append(ShipmentLeg(a["transporter"], a["from"], a["to"], int(a["socBps"]), int(a["packagingClass"]),
                                    int(log["blockNumber"]),
                                    int(w3.eth.get_block(log["blockNumber"])["timestamp"])))
        return legs


@dataclass(frozen=True)
class ShipmentLeg:
    transporter: str
    from_: str
    to: str
    soc_bps: int
    packaging_class: int
    block_number: int
    recorded_at: int
