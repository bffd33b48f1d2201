"""Field types and list envelopes shared by the routers."""

from __future__ import annotations

import base64
from typing import Annotated, Any, Generic, TypeVar

from eth_utils import to_checksum_address
from pydantic import BaseModel, Field

from api.problems import ApiProblem

ZERO32 = "0x" + "00" * 32
AddressStr = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{40}$",
                                  examples=["0x70997970C51812dc3A010C7d01b50e0d17dc79C8"])]
Bytes32 = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{64}$", examples=[ZERO32])]
Identifier = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]
Uint64 = Annotated[int, Field(ge=0, le=2**64 - 1)]
Uint128 = Annotated[int, Field(ge=0, le=2**128 - 1)]
Uint16 = Annotated[int, Field(ge=0, le=2**16 - 1)]
LotId = Annotated[int, Field(ge=0, le=2**63 - 1)]

T = TypeVar("T")


def checksum(address: str) -> str:
    return to_checksum_address(address)


def b32(value: str) -> bytes:
    return bytes.fromhex(value[2:])


class Page(BaseModel, Generic[T]):
    """A page of an index list: ``next_cursor`` fetches the next one; ``block`` is the chain block it reflects."""

    items: list[T]
    next_cursor: str | None
    block: int


def encode_cursor(value: int | str) -> str:
    return base64.urlsafe_b64encode(str(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise ApiProblem(400, "invalid-cursor", "the cursor is not one this API issued") from None


def int_cursor(cursor: str | None) -> int | None:
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    if not raw.lstrip("-").isdigit():
        raise ApiProblem(400, "invalid-cursor", "the cursor is not one this API issued")
    return int(raw)


def paginate(db: object, stmt: Any, key: Any, cursor: str | None, limit: int) -> tuple[list[Any], str | None]:
    """Keyset pagination over an integer or string key column: rows after ``cursor``, at most ``limit``."""
    from sqlmodel import Session

    assert isinstance(db, Session)
    after = decode_cursor(cursor)
    if after is not None:
        column_type = getattr(getattr(key, "type", None), "python_type", str)
        try:
            value: object = int(after) if column_type is int else after
        except ValueError:
            raise ApiProblem(400, "invalid-cursor", "the cursor is not one this API issued") from None
        stmt = stmt.where(key > value)  # type: ignore[attr-defined, operator]
    rows = list(db.exec(stmt.order_by(key).limit(limit + 1)).all())  # type: ignore[attr-defined]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(getattr(rows[-1], key.key))  # type: ignore[attr-defined]
    return rows, next_cursor
