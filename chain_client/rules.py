"""Rule data pushed on-chain at deployment, kept in one place. Governance can change it later on-chain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

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
