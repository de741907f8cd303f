"""Key helpers against known vectors and the exact formats the binaries accept (facts §1.8)."""

from __future__ import annotations

import base64

import pytest
import rlp

from opstack.components import keys

# Anvil's first dev account (a published test vector).
ANVIL_KEY = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ANVIL_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
# A libp2p secp256k1 public key and its peer id, as printed by `aea get-multiaddress` / `get-public-key`.
AEA_PUBKEY = "02d9383bc6e37e4d6b56cecb93c1e2796407c07decaa3ae598b6f762946a464353"
AEA_PEER_ID = "16Uiu2HAmA3cBbvMtLjqnkmoLBFuzmsVYnGfNLvr5Ws3Ey7JeRFAa"
# A Waku node's ENR (its secp256k1 key) and the peer id in its listen address (Waku docs).
WAKU_ENR = (
    "enr:-Iu4QCQZXZDb_JsYmLoYor0F5E_95HbIywgO_wgx2rIdDbmCJZkTzmlCr0wmMzV47lgik_tVwww5mIng90Ris83TisMBgmlkgnY0"
    "gmlwhAAAAACJc2VjcDI1NmsxoQPszztG-Ev52ZB7tk0jF8s6Md4KvyY_rhzNZokaaB_ABIN0Y3CC6mCFd2FrdTIB"
)
WAKU_PEER_ID = "16Uiu2HAmUbPquFQqje3jiqoB5YoiUbBya59NB4qqEzeiTNGHeA6w"


def test_address_of_known_key() -> None:
    assert keys.address_of(keys.parse_signing_key("0x" + ANVIL_KEY)) == ANVIL_ADDRESS
    assert keys.address_of(keys.parse_signing_key(ANVIL_KEY)) == ANVIL_ADDRESS


def test_peer_id_from_known_public_key() -> None:
    assert keys.peer_id_from_public_key(bytes.fromhex(AEA_PUBKEY)) == AEA_PEER_ID


def test_peer_id_from_enr_public_key() -> None:
    body = WAKU_ENR[4:]
    items = rlp.decode(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    pairs = {items[i]: items[i + 1] for i in range(2, len(items) - 1, 2)}
    assert keys.peer_id_from_public_key(pairs[b"secp256k1"]) == WAKU_PEER_ID


def test_peer_id_of_private_key_goes_through_its_compressed_public_key() -> None:
    key = keys.parse_p2p_key(ANVIL_KEY)
    pub = keys.compressed_public_key(key)
    assert len(pub) == 33 and pub[0] in (2, 3)
    pid = keys.peer_id_of(key)
    assert pid == keys.peer_id_from_public_key(pub)
    assert pid.startswith("16Uiu2")


def test_base58_keeps_leading_zero_bytes() -> None:
    assert keys.base58btc(b"\0\0\x01") == "112"
    assert keys.base58btc(b"") == ""


@pytest.mark.parametrize(
    "text", [ANVIL_KEY, "0x" + ANVIL_KEY, "0X" + ANVIL_KEY.upper(), f"  0x{ANVIL_KEY}\n"]
)
def test_file_keys_accept_optional_prefix_and_trim_whitespace(text: str) -> None:
    assert keys.parse_jwt_secret(text) == bytes.fromhex(ANVIL_KEY)
    assert keys.parse_p2p_key(text.encode()) == bytes.fromhex(ANVIL_KEY)


def test_env_keys_refuse_surrounding_whitespace_without_echoing_the_key() -> None:
    with pytest.raises(keys.KeyFormatError, match="whitespace") as err:
        keys.parse_signing_key(f"0x{ANVIL_KEY}\n")
    assert ANVIL_KEY not in str(err.value) and ANVIL_KEY[:8] not in str(err.value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (ANVIL_KEY[:-2], "64 hex characters"),
        (ANVIL_KEY + "00", "64 hex characters"),
        ("zz" + ANVIL_KEY[2:], "non-hex"),
        ("", "64 hex characters"),
    ],
)
def test_malformed_keys_are_refused(text: str, fragment: str) -> None:
    for parse in (keys.parse_jwt_secret, keys.parse_p2p_key, keys.parse_signing_key):
        with pytest.raises(keys.KeyFormatError, match=fragment) as err:
            parse(text)
        if len(text) > 8:
            assert text[2:10] not in str(err.value)


@pytest.mark.parametrize("value", [0, keys.SECP256K1_N, keys.SECP256K1_N + 1])
def test_out_of_range_secp256k1_keys_are_refused(value: int) -> None:
    text = value.to_bytes(32, "big").hex()
    with pytest.raises(keys.KeyFormatError, match="secp256k1"):
        keys.parse_p2p_key(text)
    with pytest.raises(keys.KeyFormatError, match="secp256k1"):
        keys.parse_signing_key(text)
    # Any 32 bytes are a valid JWT secret.
    assert keys.parse_jwt_secret(text) == bytes.fromhex(text)


def test_generated_keys_have_the_binaries_own_spelling_and_are_fresh() -> None:
    jwt = keys.generate_jwt_secret()
    assert jwt.startswith("0x") and len(jwt) == 66
    p2p = keys.generate_p2p_key()
    assert not p2p.startswith("0x") and len(p2p) == 64
    assert keys.parse_jwt_secret(jwt) and keys.parse_p2p_key(p2p)
    assert keys.parse_signing_key(keys.generate_signing_key())
    assert len({keys.generate_p2p_key() for _ in range(8)}) == 8


def test_multiaddr_for_ip_and_dns_hosts() -> None:
    assert keys.p2p_multiaddr("10.0.0.7", 9222, AEA_PEER_ID) == f"/ip4/10.0.0.7/tcp/9222/p2p/{AEA_PEER_ID}"
    assert keys.p2p_multiaddr("seq-0.seq-headless.ns.svc", 9222, AEA_PEER_ID).startswith("/dns4/seq-0.")
