"""The version matrix and the per-version flag data."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from opstack.components import versions as v


def test_default_images_are_the_pinned_official_ones() -> None:
    assert v.default_image("op-node") == "us-docker.pkg.dev/oplabs-tools-artifacts/images/op-node:v1.13.5"
    assert v.default_image("op-geth").endswith("/op-geth:v1.101511.1")
    assert v.default_image("op-batcher").endswith(":v1.14.0")
    assert v.default_image("op-proposer").endswith(":v1.10.0")
    assert v.default_image("op-challenger").endswith(":v1.5.1")


def test_op_geth_follows_a_pinned_op_node() -> None:
    assert v.node_images(None, None) == (v.default_image("op-node"), v.default_image("op-geth"))
    _node, geth = v.node_images(v.image_for("op-node", "v1.13.2"), None)
    assert geth.endswith(":v1.101503.4")
    assert v.node_images("x/op-node:v1.13.5", "mine/geth:custom") == ("x/op-node:v1.13.5", "mine/geth:custom")


def test_check_pair_flags_known_mismatches_only() -> None:
    assert v.check_pair(v.default_image("op-node"), v.default_image("op-geth")) is None
    msg = v.check_pair("r/op-node:v1.13.5", "r/op-geth:v1.101503.4")
    assert msg is not None and "spec.images.opGeth" in msg
    assert v.check_pair("r/op-node:v1.14.0", "r/op-geth:v1.101603.1") is None
    assert v.check_pair("r/op-node@sha256:abc", "r/op-geth:v1.101503.4") is None


def test_image_tag_parsing() -> None:
    assert v.image_tag("localhost:5000/op-node:v1.13.5") == "v1.13.5"
    assert v.image_tag("localhost:5000/op-node") is None
    assert v.image_tag("op-node:v1@sha256:ff") == "v1"


def test_every_pinned_version_has_a_sourced_flag_list() -> None:
    raw = json.loads(resources.files("opstack.components").joinpath("data/flags.json").read_text())
    for comp in v.COMPONENTS:
        entry = raw["components"][comp][v.DEFAULT_VERSIONS[comp]]
        assert entry["source"] and len(entry["flags"]) > 40
        fs = v.flag_set(comp)
        assert fs.version == v.DEFAULT_VERSIONS[comp]
    # Version differences the facts record: op-proposer v1.10.0 lacks --txmgr.max-tip-cap.
    assert not v.flag_set("op-proposer").has("--txmgr.max-tip-cap")
    assert v.flag_set("op-batcher").has("--txmgr.max-tip-cap")
    assert v.flag_set("op-node").has("--p2p.sequencer.key")
    assert "OP_BATCHER_PRIVATE_KEY" in v.flag_set("op-batcher").env
    assert v.flag_set("op-geth").has("--beta.op-network")  # aliases count


def test_unknown_tags_fall_back_to_the_pinned_flag_set() -> None:
    assert v.flag_set("op-node", "r/op-node:v9.9.9").version == "v1.13.5"


def test_require_names_the_field() -> None:
    with pytest.raises(v.UnsupportedSettingError, match=r"spec\.x.*--nope.*op-node v1\.13\.5"):
        v.flag_set("op-node").require("--nope", "spec.x")
