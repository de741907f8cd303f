"""What each component's command line says for sequencers, replicas, registry and custom chains, and the
clear errors for settings that cannot be rendered."""

from __future__ import annotations

from typing import Any

import pytest

from opstack.api.v1alpha1 import (
    OpBatcherSpec,
    OpChallengerSpec,
    OpNodeSpec,
    OpProposerSpec,
    OptimismNetworkSpec,
    OptimismNetworkStatus,
)
from opstack.components import opgeth
from opstack.components.batcher import BatcherInputs, batcher_container
from opstack.components.challenger import ChallengerInputs, challenger_container
from opstack.components.common import (
    ComponentConfigError,
    NetworkNotReadyError,
    SecretRef,
    resolve_network,
)
from opstack.components.opnode import OpNodeInputs, node_secrets, op_node_container
from opstack.components.proposer import ProposerInputs, proposer_container
from opstack.components.versions import UnsupportedSettingError, default_image
from opstack.testing.component_scenarios import devnet_network, sample, sepolia_network

NODE = default_image("op-node")
GETH = default_image("op-geth")


def node_spec(name: str, **changes: Any) -> OpNodeSpec:
    spec = sample(name)["spec"]
    spec.update(changes)
    return OpNodeSpec.model_validate(spec)


def render_node(spec: OpNodeSpec, network: Any, **inputs: Any) -> tuple[list[str], list[dict[str, Any]]]:
    parts = op_node_container(spec, network, OpNodeInputs(secrets=node_secrets("n", spec), **inputs), NODE)
    return parts.args, parts.env


def render_geth(spec: OpNodeSpec, network: Any, seq_http: str | None = None) -> list[str]:
    inputs = opgeth.GethInputs(SecretRef("n-jwt", "jwt.hex"), seq_http)
    return opgeth.op_geth_container(spec, network, inputs, GETH).args


def test_sequencer_signs_with_a_secret_and_keeps_to_static_peers() -> None:
    spec = node_spec("opnode_devnet_sequencer")
    args, env = render_node(spec, devnet_network())
    assert "--sequencer.enabled=true" in args
    assert "--p2p.no-discovery" in args and not any(a.startswith("--p2p.discovery.path") for a in args)
    assert "--rpc.enable-admin=true" in args
    assert "--l2=http://127.0.0.1:8551" in args
    assert "--l2.jwt-secret=/secrets/engine-jwt/jwt.hex" in args
    assert "--rollup.config=/config/rollup/rollup.json" in args
    assert {
        "name": "OP_NODE_P2P_SEQUENCER_KEY",
        "valueFrom": {"secretKeyRef": {"name": "devnet-sequencer-key", "key": "private-key"}},
    } in env
    geth = render_geth(spec, devnet_network())
    assert "--nodiscover" in geth and "--rollup.disabletxpoolgossip=true" in geth
    assert not any(a.startswith("--rollup.sequencerhttp") for a in geth)
    assert "--authrpc.addr=127.0.0.1" in geth and "--state.scheme=hash" in geth


def test_replica_discovers_and_forwards_to_its_sequencer() -> None:
    spec = node_spec("opnode_devnet_replica")
    peer = "/dns4/s-0.s-headless.ns.svc/tcp/9222/p2p/16Uiu2HAmA3cBbvMtLjqnkmoLBFuzmsVYnGfNLvr5Ws3Ey7JeRFAa"
    args, env = render_node(spec, devnet_network(), static_peers=(peer,))
    assert "--p2p.discovery.path=/data/op-node/discovery" in args and "--p2p.no-discovery" not in args
    assert f"--p2p.static={peer}" in args and "--rpc.enable-admin=false" in args
    assert not any(a.startswith("--sequencer.") for a in args) and env == []
    geth = render_geth(spec, devnet_network(), "http://s.ns.svc:8545")
    assert "--rollup.sequencerhttp=http://s.ns.svc:8545" in geth and "--nodiscover" not in geth


def test_registry_chain_uses_built_in_configuration_and_secret_urls() -> None:
    spec = node_spec("opnode_op_sepolia_replica")
    net = sepolia_network()
    args, env = render_node(spec, net)
    assert "--network=op-sepolia" in args and not any(a.startswith("--rollup.config") for a in args)
    assert not any(a.startswith(("--l1=", "--l1.beacon=")) for a in args)
    assert [e["name"] for e in env] == ["OP_NODE_L1_ETH_RPC", "OP_NODE_L1_BEACON"]
    assert env[0]["valueFrom"]["secretKeyRef"] == {"name": "sepolia-l1", "key": "rpc-url"}
    assert "--op-network=op-sepolia" in render_geth(spec, net, net.public_sequencer_url)
    assert opgeth.geth_init_container(spec, net, GETH) is None


def test_custom_chain_inits_geth_only_when_the_datadir_is_empty() -> None:
    spec = node_spec("opnode_devnet_replica")
    init = opgeth.geth_init_container(spec, devnet_network(), GETH)
    assert init is not None
    assert init.command[:2] == ["sh", "-c"] and 'exec geth init "$@"' in init.command[2]
    assert '[ -d "$GETH_DATADIR/geth/chaindata" ]' in init.command[2]
    assert init.args == ["--datadir=/data/geth", "/config/genesis/genesis.json"]
    assert init.volumes[0]["configMap"]["name"] == "devnet-genesis"


def test_no_beacon_means_beacon_ignore_for_op_node_but_an_error_for_the_challenger() -> None:
    spec = sample("optimismnetwork_devnet")["spec"]
    net = resolve_network("devnet", OptimismNetworkSpec.model_validate(spec))
    args, _ = render_node(node_spec("opnode_devnet_replica"), net)
    assert "--l1.beacon.ignore=true" in args
    ch = OpChallengerSpec.model_validate(sample("opchallenger_devnet")["spec"])
    with pytest.raises(ComponentConfigError, match=r"spec\.l1BeaconUrl"):
        challenger_container(ch, net, ChallengerInputs("http://a:8545", "http://a:9545"), "c:v1.5.1")


def test_custom_network_that_has_not_published_its_configs_is_not_ready() -> None:
    spec = sample("optimismnetwork_devnet")["spec"]
    spec["rollupConfig"] = {"inline": '{"a": 1}'}
    with pytest.raises(NetworkNotReadyError, match="rollupConfigMap"):
        resolve_network("devnet", OptimismNetworkSpec.model_validate(spec))


def test_sequencer_without_signing_key_is_refused_with_the_field() -> None:
    obj = sample("opnode_devnet_sequencer")["spec"]
    del obj["opNode"]["sequencer"]["signingKey"]
    with pytest.raises(ComponentConfigError, match=r"spec\.opNode\.sequencer\.signingKey"):
        render_node(OpNodeSpec.model_validate(obj), devnet_network())


def test_archive_with_path_scheme_is_refused() -> None:
    obj = sample("opnode_devnet_sequencer")["spec"]
    obj["opGeth"]["stateScheme"] = "path"
    with pytest.raises(ComponentConfigError, match=r"spec\.opGeth\.stateScheme"):
        render_geth(OpNodeSpec.model_validate(obj), devnet_network())


def test_proposer_refuses_a_flag_its_version_lacks() -> None:
    obj = sample("opproposer_devnet")["spec"]
    obj["l1Transaction"]["maxTipCapGwei"] = 50
    spec = OpProposerSpec.model_validate(obj)
    with pytest.raises(UnsupportedSettingError, match=r"spec\.l1Transaction\.maxTipCapGwei.*v1\.10\.0"):
        proposer_container(
            spec, devnet_network(), ProposerInputs("http://s:9545"), default_image("op-proposer")
        )
    # The batcher's version has it.
    b = OpBatcherSpec.model_validate(
        {**sample("opbatcher_devnet")["spec"], "l1Transaction": obj["l1Transaction"]}
    )
    args = batcher_container(
        b, devnet_network(), BatcherInputs("http://s:8545", "http://s:9545"), "b:v1.14.0"
    ).args
    assert "--txmgr.max-tip-cap=50" in args


def test_proposer_targets_the_factory_or_the_output_oracle() -> None:
    spec = OpProposerSpec.model_validate(sample("opproposer_devnet")["spec"])
    args = proposer_container(spec, devnet_network(), ProposerInputs("http://s:9545"), "p:v1.10.0").args
    assert {"--proposal-interval=10m", "--game-type=1"} <= set(args)
    assert any(a.startswith("--game-factory-address=0x") for a in args)
    legacy = OpProposerSpec.model_validate(
        {**sample("opproposer_devnet")["spec"], "l2OutputOracleAddr": "0x" + "11" * 20}
    )
    args = proposer_container(legacy, devnet_network(), ProposerInputs("http://s:9545"), "p:v1.10.0").args
    assert f"--l2oo-address={'0x' + '11' * 20}" in args and not any("game" in a for a in args)


def test_signing_key_only_as_env_and_remote_signer_needs_tls_material() -> None:
    spec = OpBatcherSpec.model_validate(sample("opbatcher_devnet")["spec"])
    parts = batcher_container(
        spec, devnet_network(), BatcherInputs("http://s:8545", "http://s:9545"), "b:v1.14.0"
    )
    assert parts.env == [
        {
            "name": "OP_BATCHER_PRIVATE_KEY",
            "valueFrom": {"secretKeyRef": {"name": "devnet-batcher-key", "key": "private-key"}},
        }
    ]
    obj = sample("opbatcher_devnet")["spec"]
    del obj["privateKey"]
    obj["remoteSigner"] = {"endpoint": "https://s:8080", "address": "0x" + "22" * 20}
    with pytest.raises(ComponentConfigError, match=r"spec\.remoteSigner\.tls\.secretName"):
        batcher_container(
            OpBatcherSpec.model_validate(obj), devnet_network(), BatcherInputs("a", "b"), "b:v1.14.0"
        )
    obj["remoteSigner"]["tls"] = {"enabled": False}
    args = batcher_container(
        OpBatcherSpec.model_validate(obj), devnet_network(), BatcherInputs("a", "b"), "x"
    ).args
    assert "--signer.tls.enabled=false" in args


def test_batcher_throttling_off_sets_threshold_zero() -> None:
    obj = sample("opbatcher_devnet")["spec"]
    obj["throttling"] = {"enabled": False, "threshold": 5}
    args = batcher_container(
        OpBatcherSpec.model_validate(obj), devnet_network(), BatcherInputs("a", "b"), "x"
    ).args
    assert "--throttle-threshold=0" in args and "--throttle-threshold=5" not in args


def test_challenger_custom_chain_mounts_configs_and_refuses_super_types() -> None:
    spec = OpChallengerSpec.model_validate(sample("opchallenger_devnet")["spec"])
    parts = challenger_container(
        spec, devnet_network(), ChallengerInputs("http://a:8545", "http://a:9545"), "c"
    )
    assert "--rollup-config=/config/rollup/rollup.json" in parts.args
    assert "--l2-genesis=/config/genesis/genesis.json" in parts.args
    assert "--trace-type=permissioned,cannon" in parts.args and "--datadir=/data/challenger" in parts.args
    reg = challenger_container(
        spec, sepolia_network(), ChallengerInputs("http://a:8545", "http://a:9545"), "c"
    )
    assert "--network=op-sepolia" in reg.args and not any("--rollup-config" in a for a in reg.args)
    obj = sample("opchallenger_devnet")["spec"]
    obj["faultProof"]["traceTypes"] = ["super-cannon"]
    with pytest.raises(ComponentConfigError, match="supervisor"):
        challenger_container(
            OpChallengerSpec.model_validate(obj), devnet_network(), ChallengerInputs("a", "b"), "c"
        )


def test_registry_chain_recognised_by_the_network_controller_uses_built_in_configuration() -> None:
    """A network named by chain id or alias only: the network controller's status verdict decides."""
    spec = {k: v for k, v in sample("optimismnetwork_devnet")["spec"].items() if k != "networkName"}
    parsed = OptimismNetworkSpec.model_validate(spec | {"chainID": 11155420})
    status = OptimismNetworkStatus.model_validate(
        {"networkInfo": {"opNodeNetwork": "op-sepolia", "opGethNetwork": "op-sepolia"}}
    )
    net = resolve_network("sep", parsed, status)
    assert net.registry_network == "op-sepolia" and net.rollup_config is None and net.genesis is None
