"""Classification of L1 failures and the redaction of endpoint URLs (which often carry API keys)."""

from __future__ import annotations

import requests

from opstack.chain.l1 import (
    BadResponse,
    EndpointTimeout,
    EndpointUnreachable,
    WrongChain,
    classify,
    redact_url,
)

URL = "https://user:pass@eth-mainnet.example.com:8443/v2/SECRETKEY?token=TOPSECRET"


def test_redact_url_keeps_only_scheme_host_and_port() -> None:
    assert redact_url(URL) == "https://eth-mainnet.example.com:8443"
    assert redact_url("http://127.0.0.1:8545") == "http://127.0.0.1:8545"
    assert redact_url("not a url") == "<invalid URL>"


def test_wrong_chain_states_both_numbers_and_its_reason() -> None:
    err = WrongChain("L1", "eth_chainId", expected=11155111, actual=1)
    assert err.reason == "L1WrongChain"
    assert "11155111" in str(err) and "serves chain id 1," in str(err)
    assert (err.expected, err.actual) == (11155111, 1)


def test_classification_and_reasons() -> None:
    cases = [
        (requests.ConnectTimeout(f"timed out {URL}"), EndpointTimeout, "L1Timeout"),
        (requests.ReadTimeout(f"read timed out {URL}"), EndpointTimeout, "L1Timeout"),
        (requests.ConnectionError(f"refused {URL}"), EndpointUnreachable, "L1Unreachable"),
        (ValueError("not json"), BadResponse, "L1BadResponse"),
    ]
    for exc, kind, reason in cases:
        err = classify("L1", "eth_chainId", exc, URL)
        assert isinstance(err, kind)
        assert err.reason == reason


def test_http_error_status_is_a_bad_response() -> None:
    response = requests.Response()
    response.status_code = 401
    err = classify("Beacon", "beacon_getNodeVersion", requests.HTTPError(response=response), URL)
    assert isinstance(err, BadResponse)
    assert err.reason == "BeaconBadResponse"
    assert "HTTP 401" in str(err)


def test_messages_never_carry_the_secret_parts_of_the_url() -> None:
    for exc in (
        requests.ConnectionError(f"HTTPSConnectionPool: Max retries exceeded with url: {URL}"),
        requests.ConnectionError("Max retries exceeded with url: /v2/SECRETKEY?token=TOPSECRET"),
        requests.ReadTimeout(f"{URL} read timed out"),
        ValueError(f"bad answer from {URL}"),
    ):
        message = str(classify("L1", "eth_call", exc, URL))
        assert "SECRETKEY" not in message and "TOPSECRET" not in message and "pass" not in message, message
