"""Every flag a container gets exists in its pinned version's flag list, and no key ever reaches args.

Covers sequencer and replica, every component, registry and custom chains (the scenarios of
opstack.testing.component_scenarios, built from config/samples).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from opstack.components import opgeth
from opstack.components.common import flag_names
from opstack.components.versions import Component, flag_set
from opstack.testing.component_scenarios import Scenario, scenarios

SCENARIOS = scenarios()
CONTAINER_COMPONENT: dict[str, Component] = {
    "op-node": "op-node",
    "op-geth": "op-geth",
    "geth-init": "op-geth",
    "op-batcher": "op-batcher",
    "op-proposer": "op-proposer",
    "op-challenger": "op-challenger",
}
SECRET_HEX = re.compile(r"(?i)(?<![0-9a-f])(0x)?[0-9a-f]{64}(?![0-9a-f])")
KEY_FLAGS = ("--private-key", "--p2p.sequencer.key", "--p2p.priv.raw", "--mnemonic")


def containers(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    spec = obj.get("spec", {}).get("template", {}).get("spec")
    if spec:
        yield from spec.get("initContainers", [])
        yield from spec["containers"]


def test_scenarios_cover_roles_components_and_chains() -> None:
    ids = {s.id for s in SCENARIOS}
    for want in ("opnode-sequencer", "opnode-replica", "batcher", "proposer", "challenger"):
        assert {s.chain for s in SCENARIOS if s.id.startswith(want)} == {"custom", "registry"}, want
    assert len(ids) == len(SCENARIOS)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_every_emitted_flag_exists_in_the_pinned_version(scenario: Scenario) -> None:
    seen = 0
    for obj in scenario.render():
        for c in containers(obj):
            comp = CONTAINER_COMPONENT[c["name"]]
            fs = flag_set(comp, c["image"])
            allowed = fs.subcommands["init"] if c["name"] == opgeth.INIT_CONTAINER else fs.flags
            names = flag_names(c.get("args", []))
            unknown = [n for n in names if n not in allowed]
            assert not unknown, f"{c['name']} ({fs.component} {fs.version}) got unknown flags {unknown}"
            for env in c.get("env", []):
                if "valueFrom" in env:
                    assert env["name"] in fs.env, (
                        f"{c['name']}: {env['name']} is not an env var of {fs.version}"
                    )
            seen += len(names)
    assert seen > 10


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_no_key_material_or_key_flag_in_args(scenario: Scenario) -> None:
    for obj in scenario.render():
        for c in containers(obj):
            for arg in [*c.get("command", []), *c.get("args", [])]:
                assert not SECRET_HEX.search(arg), f"{c['name']}: secret-looking hex in {arg!r}"
                assert not arg.startswith(KEY_FLAGS), f"{c['name']}: key flag in args: {arg.split('=')[0]}"
            for env in c.get("env", []):
                # Key-bearing variables only ever come from a Secret.
                if env["name"].endswith(("PRIVATE_KEY", "SEQUENCER_KEY", "MNEMONIC")):
                    assert "value" not in env and "secretKeyRef" in env["valueFrom"]
