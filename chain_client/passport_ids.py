"""The two forms of a battery's identifier in a Battery Pass export, and the reversible mapping between them.

- ``productIdentifier``: the ISO/IEC 15459-style unique identifier as registered (upper-case letters, digits and
  ``- . / : +``, at most 100 characters), e.g. ``KR:KCELL:EV:0000001``. On-chain it is ``keccak256`` of this string.
- ``batteryPassportIdentifier``: a URN, because the 1.2.0 schema requires ``^urn:[a-z0-9]+:[a-z0-9]+$``:
  ``urn:bledger:`` followed by the identifier with letters in lower case, digits unchanged, and every other
  character written as ``z`` plus one letter: ``z`` -> ``zz``, ``-`` -> ``za``, ``.`` -> ``zb``, ``/`` -> ``zc``,
  ``:`` -> ``zd``, ``+`` -> ``ze``. ``KR:KCELL:EV:0000001`` <-> ``urn:bledger:krzdkcellzdevzd0000001``.

The escape letter ``z`` is doubled, so decoding is unambiguous: :func:`from_urn` (``to_urn(x)``) == ``x`` for
every valid identifier, and :func:`from_urn` refuses any string :func:`to_urn` cannot produce.
"""

from __future__ import annotations

import re

from chain_client.battery_files import IDENTIFIER

URN_NAMESPACE = "bledger"
_ESCAPES = {"Z": "zz", "-": "za", ".": "zb", "/": "zc", ":": "zd", "+": "ze"}
_UNESCAPES = {v[1]: k for k, v in _ESCAPES.items()}
_URN = re.compile(rf"urn:{URN_NAMESPACE}:([a-z0-9]+)")


def check_identifier(text: str) -> str:
    """The canonical identifier (surrounding white space removed), or ValueError if it is not ISO/IEC 15459-style."""
    ident = text.strip()
    if not IDENTIFIER.fullmatch(ident):
        raise ValueError(f"{text!r} is not an ISO/IEC 15459-style identifier (A-Z, 0-9, - . / : +; at most 100 "
                         "characters, starting with a letter or digit)")
    return ident


def to_urn(text: str) -> str:
    """``batteryPassportIdentifier`` of an identifier."""
    ident = check_identifier(text)
    return f"urn:{URN_NAMESPACE}:" + "".join(_ESCAPES.get(c, c.lower()) for c in ident)


def from_urn(urn: str) -> str:
    """The identifier a ``batteryPassportIdentifier`` stands for."""
    match = _URN.fullmatch(urn.strip())
    if not match:
        raise ValueError(f"{urn!r} is not a battery passport URN (urn:{URN_NAMESPACE}:...)")
    out: list[str] = []
    chars = iter(match.group(1))
    for c in chars:
        if c != "z":
            out.append(c.upper())
            continue
        escaped = next(chars, "")
        if escaped not in _UNESCAPES:
            raise ValueError(f"{urn!r}: 'z{escaped}' is not an escape (zz, za, zb, zc, zd, ze)")
        out.append(_UNESCAPES[escaped])
    ident = "".join(out)
    return check_identifier(ident)
