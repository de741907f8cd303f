"""`secret_value`: the one decoder of Secret data that the controllers share (strict base64)."""

from __future__ import annotations

import base64

import pytest

from opstack.resources.config import SecretValueError, decode_secret_data, secret_value


def test_secret_value_decodes_strictly_and_says_when_a_key_is_absent() -> None:
    secret = {"data": {"url": base64.b64encode(b"https://l1.example").decode(), "bad": "no*base64!"}}
    assert secret_value(secret, "url") == b"https://l1.example"
    assert secret_value(secret, "missing") is None and secret_value({}, "url") is None
    with pytest.raises(SecretValueError, match="not valid base64"):
        secret_value(secret, "bad")
    with pytest.raises(ValueError):  # callers may catch ValueError for base64 and UTF-8 problems alike
        decode_secret_data("abc")  # bad padding
    assert decode_secret_data("") == b""


def test_the_controllers_keep_their_own_messages() -> None:
    from opstack.controllers.chainops import _derive_address

    kind, why = _derive_address("no*base64!")
    assert kind == "error" and "not valid base64 (was it written with data instead of stringData?)" in why
