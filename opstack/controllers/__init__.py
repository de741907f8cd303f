"""One reconciler per CRD; each declares its watches and, next to its code, the RBAC rules it needs
(`opstack.controllers.rbac`)."""

from __future__ import annotations

import importlib
from typing import Any

# The controllers the manager runs, in set-up order (the network first: it registers the shared indexes).
CONTROLLERS = ("optimismnetwork", "opnode", "opbatcher", "opproposer", "opchallenger")


def setup_all(mgr: Any, *, max_concurrent_reconciles: int = 2) -> list[Any]:
    """Wire every controller into `mgr` with default settings; returns them in set-up order.

    Imported lazily, so that the RBAC generator can import this package without web3 and the runtime."""
    return [
        importlib.import_module(f"{__name__}.{name}").setup(
            mgr, max_concurrent_reconciles=max_concurrent_reconciles
        )
        for name in CONTROLLERS
    ]
