"""Scenarios for the unit tests of `opstack.components` and `opstack.resources`: the samples of
config/samples (custom devnet and op-sepolia) plus variants, rendered into manifests by the pure builders.

Every scenario says which component containers it renders, so the tests can check each emitted flag
against that version's flag list, and which key material must never appear in its output.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opstack.api.v1alpha1 import (
    NetworkInfo,
    OpBatcherSpec,
    OpChallengerSpec,
    OpNodeSpec,
    OpProposerSpec,
    OptimismNetworkSpec,
    OptimismNetworkStatus,
)
from opstack.components.batcher import BatcherInputs
from opstack.components.challenger import ChallengerInputs
from opstack.components.common import NetworkFacts, resolve_network
from opstack.components.keys import generate_p2p_key, parse_p2p_key, peer_id_of
from opstack.components.opnode import OpNodeInputs, node_secrets, node_urls
from opstack.components.proposer import ProposerInputs
from opstack.resources.chainops import (
    batcher_deployment,
    challenger_statefulset,
    proposer_deployment,
    signer_network_policy,
    signer_service,
)
from opstack.resources.meta import Owner
from opstack.resources.opnode import (
    opnode_headless_service,
    opnode_network_policy,
    opnode_p2p_services,
    opnode_pdb,
    opnode_service,
    opnode_statefulset,
    static_peer,
)
from opstack.testing.samples import SAMPLES, load

NAMESPACE = "chain"
OP_SEPOLIA_SEQUENCER = "https://sepolia-sequencer.optimism.io"  # facts §3.1 sequencer_rpc
DEVNET_FACTORY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
SEPOLIA_FACTORY = "0x05F9613aDB30026FFd634f38e5C4dFd30a197Fa1"


def sample(name: str) -> dict[str, Any]:
    return load(SAMPLES / f"optimism_v1alpha1_{name}.yaml")


def owner_of(obj: dict[str, Any]) -> Owner:
    name = obj["metadata"]["name"]
    return Owner(obj["apiVersion"], obj["kind"], name, NAMESPACE, f"uid-{name}")


def devnet_network(**spec_overrides: Any) -> NetworkFacts:
    spec = sample("optimismnetwork_devnet")["spec"]
    spec.setdefault("l1BeaconUrl", "http://beacon.devnet.svc:5052")
    spec.update(spec_overrides)
    status = OptimismNetworkStatus(
        network_info=NetworkInfo.model_validate(
            {"discoveredContracts": {"disputeGameFactoryAddr": DEVNET_FACTORY}}
        )
    )
    return resolve_network("devnet", OptimismNetworkSpec.model_validate(spec), status)


def sepolia_network() -> NetworkFacts:
    spec = OptimismNetworkSpec.model_validate(sample("optimismnetwork_op_sepolia")["spec"])
    status = OptimismNetworkStatus(
        network_info=NetworkInfo.model_validate(
            {"discoveredContracts": {"disputeGameFactoryAddr": SEPOLIA_FACTORY}}
        )
    )
    return resolve_network("op-sepolia", spec, status, public_sequencer_url=OP_SEPOLIA_SEQUENCER)


@dataclass
class Scenario:
    """One parent object rendered into its children."""

    id: str
    owner: Owner
    render: Callable[[], list[dict[str, Any]]]
    # component -> image the containers of that component run (for the flag-existence test).
    chain: str


# The sequencer's P2P key of the devnet scenarios (generated once per process; never asserted on).
_SEQ_P2P = parse_p2p_key(generate_p2p_key())


def _opnode(
    id: str, obj: dict[str, Any], network: NetworkFacts, *, sequencer: dict[str, Any] | None = None
) -> Scenario:
    owner = owner_of(obj)
    spec = OpNodeSpec.model_validate(obj["spec"])

    def render() -> list[dict[str, Any]]:
        secrets = node_secrets(owner.name, spec)
        static: tuple[str, ...] = ()
        seq_http = None
        if sequencer is not None:
            seq_spec = OpNodeSpec.model_validate(sequencer["spec"])
            seq_name = sequencer["metadata"]["name"]
            static = (static_peer(seq_name, NAMESPACE, seq_spec, peer_id_of(_SEQ_P2P)),)
            seq_http = node_urls(seq_name, NAMESPACE, seq_spec).geth_http
        elif spec.node_type == "replica":
            seq_http = network.public_sequencer_url
        inputs = OpNodeInputs(secrets=secrets, static_peers=static, sequencer_http=seq_http)
        referenced = {f"Secret/{secrets.jwt.name}": "1"}
        objs = [
            opnode_statefulset(owner, spec, network, inputs, referenced),
            opnode_service(owner, spec, network),
            opnode_headless_service(owner, spec, network),
            *opnode_p2p_services(owner, spec, network),
            opnode_network_policy(owner, spec, network, ["opstack-system"]),
        ]
        pdb = opnode_pdb(owner, spec, network)
        return [*objs, pdb] if pdb else objs

    return Scenario(id, owner, render, "registry" if network.is_registry else "custom")


def _signers(id: str, obj: dict[str, Any], network: NetworkFacts, seq: dict[str, Any]) -> Scenario:
    owner = owner_of(obj)
    seq_spec = OpNodeSpec.model_validate(seq["spec"])
    urls = node_urls(seq["metadata"]["name"], NAMESPACE, seq_spec)
    kind = obj["kind"]

    def render() -> list[dict[str, Any]]:
        if kind == "OpBatcher":
            b = OpBatcherSpec.model_validate(obj["spec"])
            return [
                batcher_deployment(owner, b, network, BatcherInputs(urls.geth_http, urls.op_node_rpc)),
                signer_service(owner, "batcher", b, network),
                signer_network_policy(owner, "batcher", b, network, ["opstack-system"]),
            ]
        if kind == "OpProposer":
            p = OpProposerSpec.model_validate(obj["spec"])
            return [
                proposer_deployment(owner, p, network, ProposerInputs(urls.op_node_rpc)),
                signer_service(owner, "proposer", p, network),
                signer_network_policy(owner, "proposer", p, network),
            ]
        c = OpChallengerSpec.model_validate(obj["spec"])
        return [
            challenger_statefulset(owner, c, network, ChallengerInputs(urls.geth_http, urls.op_node_rpc)),
            signer_service(owner, "challenger", c, network),
            signer_network_policy(owner, "challenger", c, network),
        ]

    return Scenario(id, owner, render, "registry" if network.is_registry else "custom")


def _with(obj: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    node = out
    keys = path.split(".")
    for k in keys[:-1]:
        node = node.setdefault(k, {})
    node[keys[-1]] = value
    return out


def _rename(obj: dict[str, Any], name: str) -> dict[str, Any]:
    return _with(obj, "metadata.name", name)


def scenarios() -> list[Scenario]:
    devnet = devnet_network()
    sepolia = sepolia_network()
    seq = sample("opnode_devnet_sequencer")
    rep = sample("opnode_devnet_replica")
    sep_rep = sample("opnode_op_sepolia_replica")
    batcher = sample("opbatcher_devnet")
    proposer = sample("opproposer_devnet")
    challenger = sample("opchallenger_devnet")

    sep_seq = _rename(
        _with(
            _with(seq, "spec.optimismNetworkRef", {"name": "op-sepolia"}),
            "spec.opGeth",
            {"storage": {"size": "100Gi"}},
        ),
        "sepolia-sequencer",
    )
    remote = {
        "endpoint": "https://signer.chain.svc:8080",
        "address": "0x8F23BB38F531600e5d8FDDaAEC41F13FaB46E98c",
        "headers": ["X-Tenant=devnet"],
        "tls": {"secretName": "signer-tls"},
    }
    return [
        _opnode("opnode-sequencer-custom", seq, devnet),
        _opnode("opnode-replica-custom", rep, devnet, sequencer=seq),
        _opnode("opnode-replica-registry", sep_rep, sepolia),
        _opnode("opnode-sequencer-registry", sep_seq, sepolia),
        _opnode(
            "opnode-replica-custom-tuned",
            _rename(
                _with(
                    _with(rep, "spec.opGeth.txpool", {"locals": [DEVNET_FACTORY], "priceBump": 12}),
                    "spec.opGeth.dataDir",
                    "/chain",
                ),
                "devnet-replica-tuned",
            ),
            devnet,
            sequencer=seq,
        ),
        _opnode(
            "opnode-replica-no-p2p",
            _rename(_with(rep, "spec.opNode.p2p", {"enabled": False}), "devnet-replica-nop2p"),
            devnet,
            sequencer=seq,
        ),
        _signers("batcher-custom", batcher, devnet, seq),
        _signers("batcher-registry", _with(batcher, "spec.dataAvailability.type", "blobs"), sepolia, sep_seq),
        _signers(
            "batcher-remote-signer",
            _with(_with(batcher, "spec.remoteSigner", remote), "spec.privateKey", None),
            devnet,
            seq,
        ),
        _signers("proposer-custom", proposer, devnet, seq),
        _signers("proposer-registry", proposer, sepolia, sep_seq),
        _signers("challenger-custom", challenger, devnet, seq),
        _signers("challenger-registry", challenger, sepolia, sep_seq),
    ]


__all__ = ["NAMESPACE", "Scenario", "devnet_network", "owner_of", "sample", "scenarios", "sepolia_network"]
