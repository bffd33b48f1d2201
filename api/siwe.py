"""Sign-in with Ethereum (EIP-4361): the plain-text message, built and parsed strictly, verified with eth-account.

The PyPI ``siwe`` package pins older web3 / eth-account; the format is small enough to own. Only what the API
issues is accepted: version 1, an EIP-55 address, RFC 3339 times, an alphanumeric nonce of at least 8 characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import is_checksum_address

HEADER = " wants you to sign in with your Ethereum account:"
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_NONCE = re.compile(r"^[A-Za-z0-9]{8,}$")
_DOMAIN = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$")
_URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:[^\s]*$")


class SiweError(ValueError):
    """The message is malformed or does not verify; ``code`` names the reason."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


@dataclass(frozen=True)
class SiweMessage:
    domain: str
    address: str
    uri: str
    chain_id: int
    nonce: str
    issued_at: datetime
    statement: str | None = None
    expiration_time: datetime | None = None
    not_before: datetime | None = None
    request_id: str | None = None
    resources: tuple[str, ...] = field(default_factory=tuple)

    def text(self) -> str:
        """The EIP-4361 message text that the wallet signs."""
        lines = [f"{self.domain}{HEADER}", self.address, ""]
        if self.statement is not None:
            lines += [self.statement, ""]
        else:
            lines += [""]
        lines += [f"URI: {self.uri}", "Version: 1", f"Chain ID: {self.chain_id}", f"Nonce: {self.nonce}",
                  f"Issued At: {rfc3339(self.issued_at)}"]
        if self.expiration_time is not None:
            lines.append(f"Expiration Time: {rfc3339(self.expiration_time)}")
        if self.not_before is not None:
            lines.append(f"Not Before: {rfc3339(self.not_before)}")
        if self.request_id is not None:
            lines.append(f"Request ID: {self.request_id}")
        if self.resources:
            lines.append("Resources:")
            lines += [f"- {r}" for r in self.resources]
        return "\n".join(lines)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(value: str, what: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SiweError("malformed-message", f"{what} {value!r} is not an RFC 3339 time") from None
    if parsed.tzinfo is None:
        raise SiweError("malformed-message", f"{what} {value!r} has no time zone")
    return parsed


def parse(text: str) -> SiweMessage:
    """Parses an EIP-4361 message; anything out of place raises :class:`SiweError` (``malformed-message``)."""
    lines = text.split("\n")

    def bad(why: str) -> SiweError:
        return SiweError("malformed-message", f"not an EIP-4361 message: {why}")

    if len(lines) < 9 or not lines[0].endswith(HEADER):
        raise bad("the first line must be '<domain> wants you to sign in with your Ethereum account:'")
    domain = lines[0][: -len(HEADER)]
    if not _DOMAIN.match(domain):
        raise bad(f"domain {domain!r} is not a host[:port]")
    address = lines[1]
    if not _ADDRESS.match(address) or not is_checksum_address(address):
        raise bad("the second line must be an EIP-55 checksummed address")
    if lines[2] != "":
        raise bad("an empty line must follow the address")
    i = 3
    statement: str | None = None
    if lines[i] != "":
        statement = lines[i]
        if "\n" in statement or statement.startswith("URI: "):
            raise bad("malformed statement")
        i += 1
    if lines[i] != "":
        raise bad("an empty line must follow the statement")
    i += 1
    fields: list[tuple[str, str]] = []
    resources: list[str] = []
    while i < len(lines):
        line = lines[i]
        if line == "Resources:":
            resources = [r[2:] for r in lines[i + 1:]]
            if not all(r.startswith("- ") and _URI.match(r[2:]) for r in lines[i + 1:]):
                raise bad("every resource must be a '- <uri>' line")
            break
        key, sep, value = line.partition(": ")
        if not sep:
            raise bad(f"line {line!r} is not 'Key: value'")
        fields.append((key, value))
        i += 1
    order = ["URI", "Version", "Chain ID", "Nonce", "Issued At", "Expiration Time", "Not Before", "Request ID"]
    keys = [k for k, _ in fields]
    if keys[:5] != order[:5] or any(k not in order[5:] for k in keys[5:]) or keys[5:] != sorted(
            keys[5:], key=order.index) or len(set(keys)) != len(keys):
        raise bad("fields must be URI, Version, Chain ID, Nonce, Issued At, then optional Expiration Time, "
                  "Not Before, Request ID, in this order")
    values = dict(fields)
    if not _URI.match(values["URI"]):
        raise bad("URI is not an RFC 3986 URI")
    if values["Version"] != "1":
        raise bad("Version must be 1")
    if not values["Chain ID"].isdigit():
        raise bad("Chain ID must be a decimal number")
    if not _NONCE.match(values["Nonce"]):
        raise bad("Nonce must be at least 8 letters or digits")
    return SiweMessage(
        domain=domain, address=address, uri=values["URI"], chain_id=int(values["Chain ID"]), nonce=values["Nonce"],
        issued_at=_time(values["Issued At"], "Issued At"), statement=statement,
        expiration_time=_time(values["Expiration Time"], "Expiration Time") if "Expiration Time" in values else None,
        not_before=_time(values["Not Before"], "Not Before") if "Not Before" in values else None,
        request_id=values.get("Request ID"), resources=tuple(resources))


def recover(text: str, signature: str) -> str:
    """The address that signed ``text`` (EIP-191 personal message)."""
    try:
        return str(Account.recover_message(encode_defunct(text=text), signature=signature))
    except Exception as exc:  # noqa: BLE001 - eth-account raises several kinds for a bad signature
        raise SiweError("bad-signature", f"the signature is malformed: {exc}") from None


def verify(text: str, signature: str, *, domain: str, uri: str, chain_id: int, now: datetime,
           skew_seconds: int = 60) -> SiweMessage:
    """Parses ``text`` and checks its binding (domain, URI, chain), its times and its signature. The nonce is the
    caller's to check (it lives in the database)."""
    message = parse(text)
    if message.domain != domain:
        raise SiweError("wrong-domain", f"the message is for {message.domain!r}, this server is {domain!r}")
    if message.uri != uri and not message.uri.startswith(uri.rstrip("/") + "/"):
        raise SiweError("wrong-uri", f"the message's URI {message.uri!r} is not under {uri!r}")
    if message.chain_id != chain_id:
        raise SiweError("wrong-chain", f"the message is for chain {message.chain_id}, this ledger is chain {chain_id}")
    if (message.issued_at - now).total_seconds() > skew_seconds:
        raise SiweError("not-yet-valid", "the message is issued in the future")
    if message.not_before is not None and (message.not_before - now).total_seconds() > skew_seconds:
        raise SiweError("not-yet-valid", "the message is not valid before " + rfc3339(message.not_before))
    if message.expiration_time is not None and message.expiration_time <= now:
        raise SiweError("expired", "the sign-in message expired at " + rfc3339(message.expiration_time))
    signer = recover(text, signature)
    if signer != message.address:
        raise SiweError("bad-signature", f"the message was signed by {signer}, not by {message.address}")
    return message
