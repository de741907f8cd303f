"""Pure parts of the signing-component controllers (opstack.controllers.chainops)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from opstack.components.keys import address_of, generate_signing_key, parse_signing_key
from opstack.controllers.chainops import (
    _derive_address,
    format_ether,
    index_sequencer_ref,
    index_signer_secrets,
    parse_ether_amount,
    phase_of,
    prune,
    workload_condition,
)
from opstack.controllers.conditions import Condition, ConditionSet


@pytest.mark.parametrize(
    ("text", "wei"),
    [
        ("1eth", 10**18),
        ("0.5eth", 5 * 10**17),
        ("500000gwei", 5 * 10**14),
        ("10wei", 10),
        ("2.5gwei", 2_500_000_000),
    ],
)
def test_parse_ether_amount(text: str, wei: int) -> None:
    assert parse_ether_amount(text) == wei


@pytest.mark.parametrize("text", ["1", "eth", "1.2.3eth", "1 btc"])
def test_parse_ether_amount_refuses_what_the_schema_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="write it like 1eth"):
        parse_ether_amount(text)


def test_format_ether() -> None:
    assert format_ether(15 * 10**17) == "1.5 ETH"
    assert format_ether(0) == "0 ETH"
    assert format_ether(10**17) == "0.1 ETH"


def _deployment(**status: Any) -> dict[str, Any]:
    return {
        "kind": "Deployment",
        "metadata": {"name": "b", "generation": 2},
        "spec": {"replicas": 1},
        "status": {"observedGeneration": 2, **status},
    }


def test_workload_condition() -> None:
    assert workload_condition(None).status == "False"
    ready = workload_condition(_deployment(replicas=1, updatedReplicas=1, readyReplicas=1))
    assert (ready.status, ready.reason) == ("True", "Ready")
    old = _deployment(replicas=1, updatedReplicas=1, readyReplicas=1)
    old["status"]["observedGeneration"] = 1
    assert workload_condition(old).reason == "Progressing"
    assert (
        workload_condition(_deployment(replicas=1, updatedReplicas=0, readyReplicas=1)).reason
        == "Progressing"
    )
    assert workload_condition(_deployment(replicas=1, updatedReplicas=1, readyReplicas=0)).status == "False"
    sts: dict[str, Any] = {
        "kind": "StatefulSet",
        "metadata": {"name": "c", "generation": 1},
        "spec": {"replicas": 1},
        "status": {
            "observedGeneration": 1,
            "replicas": 1,
            "updatedReplicas": 1,
            "readyReplicas": 1,
            "currentRevision": "c-1",
            "updateRevision": "c-2",
        },
    }
    assert workload_condition(sts).reason == "Progressing"
    sts["status"]["currentRevision"] = "c-2"
    assert workload_condition(sts).status == "True"


def _conditions(*conds: Condition) -> ConditionSet:
    cs = ConditionSet(None, observed_generation=1)
    for c in conds:
        cs.set(c)
    return cs


def test_phase() -> None:
    assert phase_of(_conditions(Condition("Ready", "True", "Ready"))) == "Running"
    low = _conditions(Condition("Ready", "True", "Ready"), Condition("SignerFunded", "False", "BalanceLow"))
    assert phase_of(low) == "Degraded"
    waiting = _conditions(
        Condition("NetworkReady", "False", "NetworkNotReady"), Condition("Ready", "False", "x")
    )
    assert phase_of(waiting) == "Pending"
    broken = _conditions(Condition("SignerReady", "False", "KeyMalformed"), Condition("Ready", "False", "x"))
    assert phase_of(broken) == "Error"


def test_indexes() -> None:
    obj = {
        "metadata": {"name": "b", "namespace": "ns"},
        "spec": {
            "sequencerRef": {"name": "seq"},
            "privateKey": {"secretRef": {"name": "k", "key": "private-key"}},
        },
    }
    assert index_sequencer_ref(obj) == ["ns/seq"]
    assert index_signer_secrets(obj) == ["ns/k"]
    remote = {
        "metadata": {"name": "b", "namespace": "ns"},
        "spec": {
            "sequencerRef": {"name": "seq", "namespace": "other"},
            "remoteSigner": {"tls": {"secretName": "t"}},
        },
    }
    assert index_sequencer_ref(remote) == ["other/seq"]
    assert index_signer_secrets(remote) == ["ns/t"]
    assert index_sequencer_ref({"spec": None}) == [] and index_signer_secrets({}) == []


def test_address_derivation_never_returns_the_key() -> None:
    key = generate_signing_key()
    kind, value = _derive_address(base64.b64encode(key.encode()).decode())
    assert (kind, value) == ("address", address_of(parse_signing_key(key)))
    for bad in (key + "\n", key[:-2], "zz" * 32):
        kind, value = _derive_address(base64.b64encode(bad.encode()).decode())
        assert kind == "error"
        assert key.removeprefix("0x")[:16] not in value and bad.strip().removeprefix("0x") not in value
    assert _derive_address("not base64!")[0] == "error"


def test_prune() -> None:
    assert prune({"a": None, "b": {}, "c": {"d": None}, "e": [1]}) == {"e": [1]}
