"""Python mirrors of the contracts' enumerations and identifiers. The order of each enum is the Solidity order."""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path

from eth_utils import keccak


class Material(IntEnum):
    LITHIUM = 0
    NICKEL = 1
    COBALT = 2
    MANGANESE = 3
    COPPER = 4
    LEAD = 5

    @property
    def symbol(self) -> str:
        return {0: "Li", 1: "Ni", 2: "Co", 3: "Mn", 4: "Cu", 5: "Pb"}[self.value]


class Feedstock(IntEnum):
    PRE_CONSUMER = 0
    POST_CONSUMER = 1


class CustodyModel(IntEnum):
    IDENTITY_PRESERVED = 0
    SEGREGATED = 1
    CONTROLLED_BLENDING = 2
    MASS_BALANCE = 3
    BOOK_AND_CLAIM = 4


class BusinessRole(IntEnum):
    RECYCLER = 0
    MATERIAL_PROCESSOR = 1
    CELL_MAKER = 2
    EV_MAKER = 3
    COLLECTOR_DISMANTLER = 4
    REUSE_REMANUFACTURER = 5
    EVALUATOR = 6
    INSPECTION_BODY = 7
    TRANSPORTER = 8
    STORAGE_OPERATOR = 9
    IMPORTER_VERIFIER = 10

    @property
    def bit(self) -> int:
        return 1 << self.value


class ParticipantStatus(IntEnum):
    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    REVOKED = 3


class LotStatus(IntEnum):
    NONE = 0
    PENDING = 1
    CERTIFIED = 2
    REJECTED = 3
    REVOKED = 4


class ClaimStatus(IntEnum):
    NONE = 0
    OPEN = 1
    ATTESTED = 2
    REJECTED = 3


def role_mask(roles: object) -> int:
    """Bitmask of an iterable of :class:`BusinessRole` (or a single one)."""
    if isinstance(roles, BusinessRole):
        return roles.bit
    mask = 0
    for role in roles:  # type: ignore[attr-defined]
        mask |= BusinessRole(role).bit
    return mask


def roles_of(mask: int) -> list[BusinessRole]:
    return [r for r in BusinessRole if mask & r.bit]


# Authorities are AccessControl roles of the registry (see contracts/registry/Authorities.sol).
GOVERNANCE_ROLE = b"\x00" * 32
MOE_ROLE = keccak(text="MOE_ROLE")
MOTIE_ROLE = keccak(text="MOTIE_ROLE")
MOLIT_ROLE = keccak(text="MOLIT_ROLE")
AUTHORITY_ROLES = {"governance": GOVERNANCE_ROLE, "moe": MOE_ROLE, "motie": MOTIE_ROLE, "molit": MOLIT_ROLE}
#: The ministries: each holds its authority role and is a member of the policy committee.
MINISTRIES = ("moe", "motie", "molit")


def identifier(text: str) -> bytes:
    """On-chain form of an identifier string (battery model, plant, facility, shipment): keccak256 of its
    canonical form (surrounding white space removed)."""
    canonical = text.strip()
    if not canonical:
        raise ValueError("an identifier cannot be empty")
    return keccak(text=canonical)


def short_string(text: str) -> bytes:
    """A short ASCII string (a chemical form such as ``Li2CO3``) left-aligned in 32 bytes."""
    raw = text.strip().encode()
    if not raw or len(raw) > 32:
        raise ValueError(f"{text!r} must be 1 to 32 bytes")
    return raw.ljust(32, b"\x00")


def from_short_string(raw: bytes) -> str:
    return raw.rstrip(b"\x00").decode(errors="replace")


def document_hash(source: Path | bytes | str) -> bytes:
    """keccak256 binding an off-chain document: a file's bytes, raw bytes, or a text."""
    if isinstance(source, Path):
        return keccak(source.read_bytes())
    if isinstance(source, str):
        return keccak(text=source)
    return keccak(source)


class BatteryCategory(IntEnum):
    EV = 0
    INDUSTRIAL = 1
    LMT = 2
    STATIONARY = 3  # stationary battery energy storage system (an industrial battery)
    SLI = 4
    PORTABLE = 5


class BatteryStatus(IntEnum):
    """EU battery passport status vocabulary, plus the life-cycle steps before removal."""

    NONE = 0
    ORIGINAL = 1
    IN_SERVICE = 2
    REMOVED = 3
    REUSED = 4
    REPURPOSED = 5
    REMANUFACTURED = 6
    WASTE = 7
    RECYCLED = 8

    @property
    def label(self) -> str:
        return self.name.replace("_", " ").title().replace(" ", "")
