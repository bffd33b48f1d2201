"""Rule data pushed on-chain at deployment, kept in one place. Governance can change it later on-chain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntFlag

from chain_client.vocabulary import Material


@dataclass(frozen=True)
class TargetMilestone:
    """Minimum recycled-content shares from a date on, in basis points per material."""

    year: int
    effective_from: datetime
    minimum_bps: dict[Material, int]

    def as_array(self) -> list[int]:
        return [self.minimum_bps.get(m, 0) for m in Material]


#: EU Battery Regulation (EU) 2023/1542, Article 8(2) and 8(3). Cobalt, lithium, nickel: share of the metal in
#: active materials; lead: share of the whole battery.
EU_ARTICLE_8 = (
    TargetMilestone(
        2031,
        datetime(2031, 8, 18, tzinfo=UTC),
        {Material.COBALT: 1600, Material.LITHIUM: 600, Material.NICKEL: 600, Material.LEAD: 8500},
    ),
    TargetMilestone(
        2036,
        datetime(2036, 8, 18, tzinfo=UTC),
        {Material.COBALT: 2600, Material.LITHIUM: 1200, Material.NICKEL: 1500, Material.LEAD: 8500},
    ),
)


class FaultFlag(IntFlag):
    """Safety / fault flags a measurement report can raise (bit positions are part of the report format)."""

    THERMAL_EVENT = 1 << 0
    ISOLATION_FAULT = 1 << 1
    CELL_VOLTAGE_DEVIATION = 1 << 2
    MECHANICAL_DAMAGE = 1 << 3
    BMS_COMMUNICATION_LOSS = 1 << 4
    COOLANT_LEAK = 1 << 5


@dataclass(frozen=True)
class GradingPolicy:
    """MOLIT's grading before removal (the standard is still in preparation, so these are parameters)."""

    upper_above_soh_bps: int = 7_000  # SOH > 70 %: upper grade, remanufacture
    middle_above_soh_bps: int = 5_000  # SOH > 50 %: middle grade, reuse; else lower, recycle
    forcing_faults: int = int(FaultFlag.THERMAL_EVENT | FaultFlag.ISOLATION_FAULT | FaultFlag.MECHANICAL_DAMAGE
                              | FaultFlag.COOLANT_LEAK)
    validity_seconds: int = 180 * 86_400  # an evaluation allows removal for six months

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.upper_above_soh_bps, self.middle_above_soh_bps, self.forcing_faults, self.validity_seconds)


DEFAULT_GRADING = GradingPolicy()

#: Lithium-ion batteries travel at reduced state of charge: 30 % is the usual transport limit.
TRANSPORT_MAX_SOC_BPS = 3_000
