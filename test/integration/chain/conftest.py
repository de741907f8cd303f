"""Fixtures for the chain package's tests against a real L1 (anvil) with the real OP Stack contracts."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from opstack.testing.anvil import Anvil
from opstack.testing.l1 import OpStackL1, deploy_op_stack

L1_CHAIN_ID = 900
L2_CHAIN_ID = 901


@pytest.fixture(scope="session")
def l1_node(anvil: Callable[..., Anvil]) -> Anvil:
    return anvil(chain_id=L1_CHAIN_ID)


@pytest.fixture(scope="session")
def op_stack_l1(l1_node: Anvil) -> OpStackL1:
    """SystemConfig, OptimismPortal2, DisputeGameFactory, FaultDisputeGame from npm, on anvil."""
    return deploy_op_stack(l1_node.url, l2_chain_id=L2_CHAIN_ID)
