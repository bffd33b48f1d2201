"""Rule data pushed on-chain at deployment, read from ``rules.json`` (shared with the Hardhat deploy script).

Governance and the ministries change the rules on-chain afterwards, each change with an event.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntFlag
from pathlib import Path
from typing import Any

from chain_client.vocabulary import BatteryStatus, Material

RULES_FILE = Path(__file__).with_name("rules.json")
_RULES: dict[str, Any] = json.loads(RULES_FILE.read_text())


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
EU_ARTICLE_8 = tuple(
    TargetMilestone(m["year"], datetime.fromisoformat(m["effectiveFrom"]),
                    {Material[k]: v for k, v in m["minimumBps"].items()})
    for m in _RULES["euArticle8"]
)

#: Safety / fault flags a measurement report can raise (bit values are part of the report format).
FaultFlag = IntFlag("FaultFlag", _RULES["faultFlags"])  # type: ignore[misc]


def _forcing() -> int:
    mask = 0
    for name in _RULES["grading"]["forcingFaults"]:
        mask |= int(FaultFlag[name])
    return mask


def paths_mask(statuses: object) -> int:
    """Bitmask ``1 << status`` of second-life statuses (names or :class:`BatteryStatus`)."""
    mask = 0
    for status in statuses:  # type: ignore[attr-defined]
        mask |= 1 << int(status if isinstance(status, BatteryStatus) else BatteryStatus[str(status)])
    return mask


def _paths(grade: str) -> int:
    return paths_mask(_RULES["grading"]["secondLife"][grade])


@dataclass(frozen=True)
class GradingPolicy:
    """MOLIT's grading before removal (the standard is still in preparation, so these are parameters), and which
    second lives each grade allows. Changed on-chain through the policy committee."""

    upper_above_soh_bps: int = _RULES["grading"]["upperAboveSohBps"]  # SOH above: upper grade, remanufacture
    middle_above_soh_bps: int = _RULES["grading"]["middleAboveSohBps"]  # above: middle, reuse; else lower, recycle
    forcing_faults: int = field(default_factory=_forcing)  # these fault flags force the lower grade
    validity_seconds: int = _RULES["grading"]["validitySeconds"]  # how long an evaluation allows removal
    upper_paths: int = field(default_factory=lambda: _paths("upper"))  # second lives of the upper grade
    middle_paths: int = field(default_factory=lambda: _paths("middle"))
    lower_paths: int = field(default_factory=lambda: _paths("lower"))

    def as_tuple(self) -> tuple[int, int, int, int, int, int, int]:
        return (self.upper_above_soh_bps, self.middle_above_soh_bps, self.forcing_faults, self.validity_seconds,
                self.upper_paths, self.middle_paths, self.lower_paths)


DEFAULT_GRADING = GradingPolicy()

#: Lithium-ion batteries travel at reduced state of charge: 30 % is the usual transport limit.
TRANSPORT_MAX_SOC_BPS: int = _RULES["transportMaxSocBps"]


@dataclass(frozen=True)
class InspectionPolicy:
    """How long a safety inspection pass may be valid, and how long a failed battery waits before another body may
    pass it. Changed on-chain through the policy committee."""

    max_validity_seconds: int = _RULES["inspection"]["maxValiditySeconds"]
    retest_wait_seconds: int = _RULES["inspection"]["retestWaitSeconds"]

    def as_tuple(self) -> tuple[int, int]:
        return (self.max_validity_seconds, self.retest_wait_seconds)


DEFAULT_INSPECTION = InspectionPolicy()
