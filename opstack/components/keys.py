"""Key material helpers: generate, check and derive public values from the keys the OP Stack binaries use.

Invariants:
- Pure: no I/O, no logging. Errors never contain the key (not even a prefix): a `KeyFormatError` says what
  is wrong with its shape and how to fix it, nothing else.
- The formats are exactly what the binaries accept (facts/opstack.md §1.8):
  * engine JWT secret (op-node --l2.jwt-secret, op-geth --authrpc.jwtsecret): a FILE of 32 bytes hex,
    optional 0x, surrounding whitespace trimmed;
  * op-node P2P identity (--p2p.priv.path): a FILE of a 32-byte secp256k1 key in hex, optional 0x,
    whitespace trimmed;
  * sequencer unsafe-block signing key (OP_NODE_P2P_SEQUENCER_KEY) and tx signing keys
    (OP_*_PRIVATE_KEY): ENV values parsed by go-ethereum's HexToECDSA after only stripping 0x, so
    surrounding whitespace (a newline from `echo`) is an error, not trimmed.
- Generated values use the binaries' own spelling: the JWT 0x-prefixed (as op-node writes it), the P2P key
  without 0x (as op-node writes it).
"""

from __future__ import annotations

import re
import secrets
from hashlib import sha256
from typing import Final, Literal

from eth_keys.datatypes import PrivateKey

# Order of the secp256k1 group: a private key is an integer in [1, N-1].
SECP256K1_N: Final = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_WHITESPACE = " \t\r\n\v\f"

KeyKind = Literal["jwt", "p2p", "signing"]
_WHAT: Final[dict[KeyKind, str]] = {
    "jwt": "engine JWT secret",
    "p2p": "P2P identity key",
    "signing": "signing key",
}


class KeyFormatError(ValueError):
    """Key material has the wrong shape. The message never contains the material."""


def _to_text(raw: str | bytes, what: str) -> str:
    if isinstance(raw, bytes):
        try:
            return raw.decode("ascii")
        except UnicodeDecodeError:
            raise KeyFormatError(
                f"the {what} is not ASCII hex text; store it as 64 hex characters (optionally 0x-prefixed)"
            ) from None
    return raw


def _parse_hex32(raw: str | bytes, kind: KeyKind, *, trim: bool) -> bytes:
    what = _WHAT[kind]
    text = _to_text(raw, what)
    if trim:
        text = text.strip(_WHITESPACE)
    elif text != text.strip(_WHITESPACE):
        raise KeyFormatError(
            f"the {what} has leading or trailing whitespace (often a newline from `echo`), which the binary "
            "rejects; store exactly 64 hex characters, optionally 0x-prefixed (e.g. with `printf %s` or "
            "`kubectl create secret generic --from-literal`)"
        )
    if text.startswith(("0x", "0X")):
        text = text[2:]
    if not _HEX64.fullmatch(text):
        raise KeyFormatError(
            f"the {what} must be 32 bytes written as 64 hex characters (optionally 0x-prefixed); "
            f"got {len(text)} characters{'' if _is_hex(text) else ' with non-hex characters'}"
        )
    return bytes.fromhex(text)


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


def _check_secp256k1(key: bytes, kind: KeyKind) -> bytes:
    if not 0 < int.from_bytes(key, "big") < SECP256K1_N:
        raise KeyFormatError(
            f"the {_WHAT[kind]} is not a valid secp256k1 private key (zero or not below the curve order); "
            "generate a new one"
        )
    return key


def parse_jwt_secret(raw: str | bytes) -> bytes:
    """The 32 bytes of an engine JWT secret file's content, or KeyFormatError."""
    return _parse_hex32(raw, "jwt", trim=True)


def parse_p2p_key(raw: str | bytes) -> bytes:
    """The 32-byte secp256k1 key of an op-node P2P key file's content, or KeyFormatError."""
    return _check_secp256k1(_parse_hex32(raw, "p2p", trim=True), "p2p")


def parse_signing_key(raw: str | bytes) -> bytes:
    """The 32-byte secp256k1 key of an env-passed signing key (sequencer or tx signer), or KeyFormatError."""
    return _check_secp256k1(_parse_hex32(raw, "signing", trim=False), "signing")


def _random_secp256k1() -> bytes:
    while True:
        key = secrets.token_bytes(32)
        if 0 < int.from_bytes(key, "big") < SECP256K1_N:
            return key


def generate_jwt_secret() -> str:
    """A fresh engine JWT secret: 0x + 64 hex characters (as op-node writes one)."""
    return "0x" + secrets.token_bytes(32).hex()


def generate_p2p_key() -> str:
    """A fresh op-node P2P identity key: 64 hex characters without 0x (as op-node writes one)."""
    return _random_secp256k1().hex()


def generate_signing_key() -> str:
    """A fresh secp256k1 signing key, 0x-prefixed (for devnets and tests)."""
    return "0x" + _random_secp256k1().hex()


def address_of(private_key: bytes) -> str:
    """The EIP-55 checksummed Ethereum address of a secp256k1 private key."""
    return str(PrivateKey(private_key).public_key.to_checksum_address())


def compressed_public_key(private_key: bytes) -> bytes:
    """The 33-byte SEC1 compressed public key of a secp256k1 private key."""
    return bytes(PrivateKey(private_key).public_key.to_compressed_bytes())


# --- libp2p peer id -----------------------------------------------------------------------------------------

_B58_ALPHABET: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58btc(data: bytes) -> str:
    """Bitcoin base58 encoding (the encoding of libp2p peer ids)."""
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, rem = divmod(n, 58)
        out.append(_B58_ALPHABET[rem])
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + "".join(reversed(out))


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


# libp2p crypto.proto: message PublicKey { KeyType Type = 1; bytes Data = 2; }, KeyType Secp256k1 = 2.
_KEYTYPE_SECP256K1: Final = 2
# Multihash codes: identity (0x00) for keys whose protobuf is at most 42 bytes, else sha2-256 (0x12).
_MH_IDENTITY: Final = 0x00
_MH_SHA2_256: Final = 0x12


def peer_id_from_public_key(compressed: bytes) -> str:
    """The libp2p peer id (base58btc, "16Uiu2...") of a compressed secp256k1 public key."""
    if len(compressed) != 33 or compressed[0] not in (2, 3):
        raise KeyFormatError(
            "a secp256k1 public key for a peer id must be 33 bytes, compressed (02/03 prefix)"
        )
    proto = bytes([0x08, _KEYTYPE_SECP256K1, 0x12]) + _varint(len(compressed)) + compressed
    if len(proto) <= 42:
        multihash = bytes([_MH_IDENTITY]) + _varint(len(proto)) + proto
    else:  # pragma: no cover - secp256k1 keys always fit the identity hash
        multihash = bytes([_MH_SHA2_256, 32]) + sha256(proto).digest()
    return base58btc(multihash)


def peer_id_of(private_key: bytes) -> str:
    """The libp2p peer id of an op-node P2P identity key."""
    return peer_id_from_public_key(compressed_public_key(private_key))


def p2p_multiaddr(host: str, port: int, peer_id: str) -> str:
    """A multiaddr for --p2p.static: /ip4/<ip> for an IPv4 literal, /dns4/<name> for a host name."""
    proto = "ip4" if re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", host) else "ip6" if ":" in host else "dns4"
    return f"/{proto}/{host}/tcp/{port}/p2p/{peer_id}"


__all__ = [
    "SECP256K1_N",
    "KeyFormatError",
    "address_of",
    "base58btc",
    "compressed_public_key",
    "generate_jwt_secret",
    "generate_p2p_key",
    "generate_signing_key",
    "p2p_multiaddr",
    "parse_jwt_secret",
    "parse_p2p_key",
    "parse_signing_key",
    "peer_id_from_public_key",
    "peer_id_of",
]
