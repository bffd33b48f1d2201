"""Checks of user input before it reaches a contract: addresses (EIP-55), integers against their ABI types, decimals
that must not be rounded, strict JSON numbers, and files that must exist and be readable.

Every check raises :class:`InputError` (a :class:`~chain_client.errors.LedgerError`) with a message that names the
value and the limit, so the CLI reports one line and nothing is sent.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from eth_utils import is_checksum_address, to_checksum_address
from web3.contract.contract import ContractFunction

from chain_client.errors import LedgerError

_HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


class InputError(LedgerError, ValueError):
    """A value given by the user that cannot be sent as it is."""


def parse_address(value: str, what: str = "address") -> str:
    """A 0x-prefixed 20-byte address, checksummed. A mixed-case address must carry a valid EIP-55 checksum (an
    all-lower or all-upper one has none to check)."""
    text = value.strip()
    if not _HEX_ADDRESS.fullmatch(text):
        raise InputError(f"{what} {value!r} is not an address (0x followed by 40 hex digits)")
    digits = text[2:]
    if digits != digits.lower() and digits != digits.upper() and not is_checksum_address(text):
        raise InputError(f"{what} {value!r} has a wrong EIP-55 checksum (mistyped?): expected "
                         f"{to_checksum_address(text.lower())} if the digits are right")
    return to_checksum_address(text.lower())


def int_range(abi_type: str) -> tuple[int, int] | None:
    """The (lowest, highest) value of an ABI integer type, or None for other types."""
    match = re.fullmatch(r"(u?)int(\d*)", abi_type)
    if match is None:
        return None
    bits = int(match.group(2) or 256)
    if match.group(1):
        return 0, 2**bits - 1
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def check_int(value: int, abi_type: str, name: str) -> int:
    """``value`` if it fits ``abi_type`` (``uint8``, ``int64``, ...), else an error naming the limits."""
    limits = int_range(abi_type)
    if limits is None:
        raise ValueError(f"{abi_type} is not an integer type")
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{name} {value!r} is not an integer")
    low, high = limits
    if not low <= value <= high:
        raise InputError(f"{name} {value:,} is out of range: the field is {abi_type} ({low:,} to {high:,})")
    return value


def parse_decimal(value: str | int | float, name: str, decimals: int, low: Decimal | None = None,
                  high: Decimal | None = None) -> int:
    """``value`` scaled by ``10**decimals`` to an integer; refuses more decimals than that (never rounds),
    non-numbers, infinities and values outside ``[low, high]``."""
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InputError(f"{name} {value!r} is not a number") from None
    if not number.is_finite():
        raise InputError(f"{name} {value!r} is not a finite number")
    if low is not None and number < low:
        raise InputError(f"{name} {value} is below the minimum {low}")
    if high is not None and number > high:
        raise InputError(f"{name} {value} is above the maximum {high}")
    scaled = number.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise InputError(f"{name} {value} has more than {decimals} decimal{'s' if decimals != 1 else ''}: "
                         "it would have to be rounded")
    return int(scaled)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text} is beyond the range of a number")
    return value


def strict_json(text: str, exact: bool = False) -> Any:
    """``json.loads`` without the non-standard ``NaN``, ``Infinity`` and ``-Infinity``, nor numbers that overflow to
    infinity (``1e400``). ``exact`` reads numbers with a fraction as :class:`~decimal.Decimal`, digits as written."""
    return json.loads(text, parse_constant=_no_constants, parse_float=Decimal if exact else _finite_float)


def readable_file(path: Path, what: str = "file") -> Path:
    """``path`` if it is a readable regular file, else an error naming it."""
    if not path.exists():
        raise InputError(f"{what} {path} not found")
    if not path.is_file():
        raise InputError(f"{what} {path} is not a regular file")
    try:
        with path.open("rb") as f:
            f.read(1)
    except OSError as exc:
        raise InputError(f"{what} {path} cannot be read: {exc.strerror}") from None
    return path


def check_call_arguments(call: ContractFunction) -> None:
    """Range-checks every integer argument of a contract call against its ABI type (arrays and tuples included),
    so an out-of-range value is refused with the field's name and limits instead of an encoder error."""
    inputs = call.abi.get("inputs", [])
    for param, value in zip(inputs, call.args, strict=False):
        _check_value(dict(param), value, f"{call.fn_name}: {param.get('name') or 'argument'}")


def explain_abi_mismatch(exc: BaseException) -> str | None:
    """For web3's "Could not identify the intended function" (an argument that fits no ABI type), the argument
    out of range and its limits, found from the call that raised it; None if that is not the cause."""
    from web3.contract.base_contract import BaseContractFunction

    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        fn = frame.f_locals.get("self")
        if frame.f_code.co_name == "__call__" and isinstance(fn, BaseContractFunction):
            args: tuple[Any, ...] = tuple(frame.f_locals.get("args", ()))
            for item in fn.contract_abi:
                inputs: list[Any] = list(item.get("inputs", []))  # type: ignore[call-overload]
                if item.get("type") == "function" and item.get("name") == fn.fn_name and len(inputs) == len(args):
                    try:
                        for param, value in zip(inputs, args, strict=True):
                            _check_value(dict(param), value, f"{fn.fn_name}: {param.get('name') or 'argument'}")
                    except InputError as found:
                        return str(found)
        tb = tb.tb_next
    return None


def _check_value(param: dict[str, Any], value: Any, name: str) -> None:
    kind: str = param["type"]
    if kind.endswith("]"):
        if isinstance(value, (list, tuple)):
            inner = {**param, "type": kind[: kind.rindex("[")]}
            for i, item in enumerate(value):
                _check_value(inner, item, f"{name}[{i}]")
        return
    if kind == "tuple":
        components = param.get("components", [])
        if isinstance(value, dict):
            for comp in components:
                if comp["name"] in value:
                    _check_value(comp, value[comp["name"]], f"{name}.{comp['name']}")
        elif isinstance(value, (list, tuple)):
            for comp, item in zip(components, value, strict=False):
                _check_value(comp, item, f"{name}.{comp['name']}")
        return
    if int_range(kind) is not None and isinstance(value, int) and not isinstance(value, bool):
        check_int(value, kind, name)
