"""Revert decoding: Solidity custom errors become Python exceptions that carry the error's name and arguments."""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from chain_client.build import all_artifacts

_ERROR_STRING = bytes.fromhex("08c379a0")  # Error(string)
_PANIC = bytes.fromhex("4e487b71")  # Panic(uint256)


class LedgerError(Exception):
    """Base class of the errors this package raises."""


@dataclass
class ContractRevert(LedgerError):
    """A contract call reverted. ``name`` is the Solidity error (``RegistryMissingRole``), ``args`` its arguments."""

    name: str
    args_by_name: dict[str, Any] = field(default_factory=dict)
    data: bytes = b""

    def __post_init__(self) -> None:
        super().__init__(str(self))

    @property
    def args_tuple(self) -> tuple[Any, ...]:
        return tuple(self.args_by_name.values())

    def __str__(self) -> str:
        inner = ", ".join(f"{k}={_show(v)}" for k, v in self.args_by_name.items())
        return f"{self.name}({inner})"


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return repr(value) if isinstance(value, str) and not value.startswith("0x") else str(value)


def _canonical_type(param: dict[str, Any]) -> str:
    kind: str = param["type"]
    if kind.startswith("tuple"):
        inner = ",".join(_canonical_type(c) for c in param["components"])
        return f"({inner}){kind[5:]}"
    return kind


@cache
def error_table() -> dict[bytes, tuple[str, list[str], list[str]]]:
    """Selector -> (name, argument names, argument types) of every error in every artifact."""
    table: dict[bytes, tuple[str, list[str], list[str]]] = {}
    for artifact in all_artifacts().values():
        for item in artifact.abi:
            if item.get("type") != "error":
                continue
            types = [_canonical_type(p) for p in item["inputs"]]
            names = [p["name"] or f"arg{i}" for i, p in enumerate(item["inputs"])]
            selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
            table[selector] = (item["name"], names, types)
    return table


def decode_revert(data: bytes | str | None) -> ContractRevert:
    """Turns raw revert data into a :class:`ContractRevert`."""
    if isinstance(data, str):
        data = bytes.fromhex(data.removeprefix("0x"))
    data = data or b""
    selector, body = data[:4], data[4:]
    if selector == _ERROR_STRING:
        return ContractRevert("Error", {"message": decode(["string"], body)[0]}, data)
    if selector == _PANIC:
        return ContractRevert("Panic", {"code": decode(["uint256"], body)[0]}, data)
    known = error_table().get(selector)
    if known is None:
        return ContractRevert("UnknownRevert" if data else "EmptyRevert", {"data": data}, data)
    name, names, types = known
    values = [to_checksum_address(v) if t == "address" else v for t, v in zip(types, decode(types, body), strict=True)]
    return ContractRevert(name, dict(zip(names, values, strict=True)), data)


#: eth-tester reports raw revert data inside its message as a Python bytes literal: ``b'..'``, or ``b".."`` when the
#: data holds the byte 0x27 (a quote); an ``Error(string)`` reason comes as its decoded text.
_TESTER_PREFIX = "execution reverted: "


def revert_data_of(exc: BaseException | None) -> bytes | None:
    """The revert data carried by a web3 / eth-tester exception or one it was raised from, if any.

    Raw data anywhere in the chain of exceptions wins over a reason eth-tester decoded to text: web3's eth-tester
    provider decodes any revert whose body parses as a string (so a custom error with a leading string argument
    would read as its first argument), while the exception it was raised from still holds the raw bytes."""
    seen: set[int] = set()
    fallback: bytes | None = None
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        from_tester = type(exc).__module__.startswith("eth_tester")
        for candidate in (getattr(exc, "data", None), *getattr(exc, "args", ())):
            if isinstance(candidate, dict):
                candidate = candidate.get("data")
            if isinstance(candidate, str) and candidate.startswith(_TESTER_PREFIX):
                rest = candidate[len(_TESTER_PREFIX):]
                if not rest.startswith(("b'", 'b"')):
                    if from_tester and fallback is None:
                        fallback = _ERROR_STRING + encode(["string"], [rest])
                    continue
                try:
                    candidate = ast.literal_eval(rest)
                except (ValueError, SyntaxError):
                    continue
            if isinstance(candidate, bytes) and len(candidate) >= 4:
                return candidate
            if isinstance(candidate, str) and candidate.startswith("0x") and len(candidate) >= 10:
                try:
                    return bytes.fromhex(candidate[2:])
                except ValueError:
                    continue
        exc = exc.__cause__ or exc.__context__
    return fallback


def _revert_exceptions() -> tuple[type[BaseException], ...]:
    from web3.exceptions import ContractCustomError, ContractLogicError, ContractPanicError, Web3RPCError

    # eth-tester's own TransactionFailed is not listed: importing eth-tester loads the whole py-evm chain (0.1 s of
    # every command's start-up); the embedded backend raises it as a ContractLogicError caused by it instead
    return (ContractCustomError, ContractLogicError, ContractPanicError, Web3RPCError)


#: Exceptions web3.py and eth-tester raise for a reverted call or transaction.
REVERT_EXCEPTIONS = _revert_exceptions()


def as_revert(exc: BaseException) -> BaseException:
    """The :class:`ContractRevert` a web3 / eth-tester exception stands for, or the exception itself if it carries
    no revert data."""
    data = revert_data_of(exc)
    return decode_revert(data) if data is not None else exc


F = TypeVar("F", bound=Callable[..., Any])


def decodes_reverts(fn: F) -> F:
    """Decorator for read methods: a reverted ``eth_call`` raises :class:`ContractRevert`."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except REVERT_EXCEPTIONS as exc:
            raise as_revert(exc) from None

    return wrapper  # type: ignore[return-value]
