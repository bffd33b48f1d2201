"""Typed client of RecyclingEfficiency (EU 2023/1542 Annex XII: recycling efficiency and material recovery)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum

from eth_account.signers.local import LocalAccount
from web3.types import TxReceipt

from chain_client.client import ContractClient
from chain_client.errors import decodes_reverts
from chain_client.events import event_args
from chain_client.rules import RULES_FILE
from chain_client.vocabulary import Material

ZERO32 = b"\x00" * 32


class ChemistryClass(IntEnum):
    LITHIUM_BASED = 0
    LEAD_ACID = 1
    OTHER = 2

    @property
    def label(self) -> str:
        return {0: "lithium-based", 1: "lead-acid", 2: "other"}[int(self)]


class DeclarationStatus(IntEnum):
    NONE = 0
    PENDING = 1
    ATTESTED = 2
    REJECTED = 3


@dataclass(frozen=True)
class PeriodDeclaration:
    """What a recycler declares for one period (integer grams; metals absent from the dicts count as zero)."""

    chemistry: ChemistryClass
    period_start: int
    period_end: int
    input_mass_grams: int
    output_mass_grams: int
    input_metal_grams: dict[Material, int]
    recovered_metal_grams: dict[Material, int]
    batteries: Sequence[bytes]
    lots: Sequence[int] = ()
    evidence_hash: bytes = ZERO32

    def as_tuple(self) -> tuple[object, ...]:
        return (int(self.chemistry), self.period_start, self.period_end, self.input_mass_grams,
                self.output_mass_grams, [self.input_metal_grams.get(m, 0) for m in Material],
                [self.recovered_metal_grams.get(m, 0) for m in Material], list(self.batteries), list(self.lots),
                self.evidence_hash)


@dataclass(frozen=True)
class Declaration:
    declaration_id: int
    recycler: str
    chemistry: ChemistryClass
    status: DeclarationStatus
    metals: frozenset[Material]
    efficiency_bps: int
    period_start: int
    period_end: int
    submitted_at: int
    decided_at: int
    recovery_bps: dict[Material, int]
    declaration_hash: bytes


@dataclass(frozen=True)
class RecyclingMilestone:
    """Targets from a date on (basis points; 0: none): efficiency per chemistry class, recovery per metal."""

    year: int
    effective_from: int
    efficiency_bps: dict[ChemistryClass, int]
    recovery_bps: dict[Material, int] = field(default_factory=dict)

    def as_tuple(self) -> tuple[object, ...]:
        return (self.effective_from, [self.efficiency_bps.get(c, 0) for c in ChemistryClass],
                [self.recovery_bps.get(m, 0) for m in Material])


@dataclass(frozen=True)
class Assessment:
    year: int  # 0: no milestone in force
    efficiency_target_bps: int
    meets_efficiency: bool
    recovery_target_bps: dict[Material, int]
    meets_recovery: bool

    @property
    def meets(self) -> bool:
        return self.meets_efficiency and self.meets_recovery


class Recycling(ContractClient):
    def declare(self, recycler: LocalAccount, declaration: PeriodDeclaration) -> int:
        """Submits a period declaration and returns its id."""
        receipt = self.submit(recycler, self.contract.functions.declare(declaration.as_tuple()))
        return int(event_args(self.contract, "DeclarationSubmitted", receipt)["declarationId"])

    def attest(self, moe: LocalAccount, declaration_id: int) -> TxReceipt:
        return self.submit(moe, self.contract.functions.attest(declaration_id))

    def reject(self, moe: LocalAccount, declaration_id: int, reason_hash: bytes = ZERO32) -> TxReceipt:
        return self.submit(moe, self.contract.functions.reject(declaration_id, reason_hash))

    def set_targets(self, governance: LocalAccount, milestone: RecyclingMilestone) -> TxReceipt:
        return self.submit(governance, self.contract.functions.setTargets(milestone.year, milestone.as_tuple()))

    @decodes_reverts
    def declaration(self, declaration_id: int) -> Declaration:
        (recycler, chemistry, status, metals, efficiency, start, end, submitted, decided, recovery,
         digest) = self.contract.functions.declaration(declaration_id).call()
        return Declaration(declaration_id, recycler, ChemistryClass(chemistry), DeclarationStatus(status),
                           frozenset(m for m in Material if metals >> int(m) & 1), efficiency, start, end, submitted,
                           decided, {m: recovery[int(m)] for m in Material}, bytes(digest))

    @decodes_reverts
    def declaration_count(self) -> int:
        return int(self.contract.functions.declarationCount().call())

    @decodes_reverts
    def assess(self, declaration_id: int, year: int = 0) -> Assessment:
        y, target, meets_eff, recovery, meets_rec = self.contract.functions.assess(declaration_id, year).call()
        return Assessment(y, target, meets_eff, {m: recovery[int(m)] for m in Material}, meets_rec)

    @decodes_reverts
    def milestone_years(self) -> list[int]:
        return [int(y) for y in self.contract.functions.milestoneYears().call()]

    @decodes_reverts
    def milestone(self, year: int) -> RecyclingMilestone:
        effective, efficiency, recovery = self.contract.functions.milestone(year).call()
        return RecyclingMilestone(year, effective, {c: efficiency[int(c)] for c in ChemistryClass},
                                  {m: recovery[int(m)] for m in Material})

    @decodes_reverts
    def milestone_at(self, time: int) -> int:
        return int(self.contract.functions.milestoneAt(time).call())

    @decodes_reverts
    def declaration_of_battery(self, battery: bytes) -> int:
        return int(self.contract.functions.declarationOfBattery(battery).call())

    @decodes_reverts
    def declaration_of_lot(self, lot_id: int) -> int:
        return int(self.contract.functions.declarationOfLot(lot_id).call())


def _annex_xii() -> tuple[RecyclingMilestone, ...]:
    rules = json.loads(RULES_FILE.read_text())["annexXII"]
    return tuple(
        RecyclingMilestone(m["year"], int(datetime.fromisoformat(m["effectiveFrom"]).timestamp()),
                           {ChemistryClass[k]: v for k, v in m["efficiencyBps"].items()},
                           {Material[k]: v for k, v in m["recoveryBps"].items()})
        for m in rules)


#: EU 2023/1542 Annex XII Parts B and C: recycling efficiency (lithium-based 65 % by end 2025, 70 % by end 2030;
#: lead-acid 75 % / 80 %; other 50 %) and material recovery (Co, Cu, Ni, Pb 90 % and Li 50 % by end 2027; 95 % and
#: 80 % by end 2031). Each milestone carries every target in force from its date, so the latest one in force decides.
ANNEX_XII = _annex_xii()
