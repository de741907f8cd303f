"""`make dev` (`python -m opstack.dev`): the operator on an embedded control plane, with a devnet applied.

Starts, in this order: a local control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
kwok with one fake node; `opstack.testing.envtest`), anvil as L1 with the real OP Stack contracts deployed
(`opstack.testing.l1`), a beacon API stub; installs the CRDs; applies the sample devnet of config/samples
(`opstack.testing.devnet`); then runs the operator in the foreground with readable console logs, and prints
how to look at it with the kubectl built beside the control plane.

Ctrl-C (SIGINT) or SIGTERM stops the operator gracefully, then anvil and the control plane, and removes the
plane's work folder. Every process started here also dies with this one if it is killed (PR_SET_PDEATHSIG),
so nothing is left behind either way.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
import time
from collections.abc import Sequence

import structlog

from opstack.testing.envtest import free_port

DEFAULT_NAMESPACE = "default"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m opstack.dev",
        description="The operator on an embedded local control plane (kwok) with anvil as L1 and the sample "
        "devnet applied. Ctrl-C stops everything.",
    )
    p.add_argument(
        "--namespace", default=DEFAULT_NAMESPACE, help="Namespace of the devnet. Default: default."
    )
    p.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="Operator log level.",
    )
    p.add_argument(
        "--log-format", default="console", choices=["auto", "json", "console"], help="Default: console."
    )
    p.add_argument(
        "--no-devnet",
        action="store_true",
        help="Start the plane, the L1 and the operator, but apply nothing.",
    )
    return p.parse_args(argv)


def banner(kubeconfig: str, kubectl: str, namespace: str, l1_url: str, metrics: int, health: int) -> str:
    ns = "" if namespace == DEFAULT_NAMESPACE else f" -n {namespace}"
    return f"""
================================================================================================
 opstack-operator dev environment is up. In another terminal:

   export KUBECONFIG={kubeconfig}
   alias kubectl={kubectl}
   kubectl get opstack{ns}
   kubectl wait --for=condition=Ready opstack --all{ns} --timeout=3m
   kubectl describe opnode devnet-sequencer{ns}

 L1 (anvil):  {l1_url}
 metrics:     curl http://127.0.0.1:{metrics}/metrics
 health:      curl http://127.0.0.1:{health}/readyz
 Ctrl-C stops the operator, anvil and the control plane.
================================================================================================
"""


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # Until the manager installs its own handlers: Ctrl-C or SIGTERM during set-up unwinds through the
    # `finally` below (a shell may have started us with SIGINT ignored, and SIGTERM would skip clean-up).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)

    from opstack.controllers import setup_all
    from opstack.runtime import Client, Manager
    from opstack.runtime.logging import configure_logging
    from opstack.testing.anvil import Anvil
    from opstack.testing.crds import install_crds
    from opstack.testing.devnet import (
        L1_CHAIN_ID,
        L2_CHAIN_ID,
        VOLUMES,
        BeaconStub,
        Devnet,
        persistent_volumes,
    )
    from opstack.testing.envtest import ControlPlane
    from opstack.testing.l1 import deploy_op_stack
    from opstack.testing.samples import CRD_BASES

    configure_logging(args.log_level, args.log_format)
    log = structlog.get_logger("opstack.dev")
    plane = ControlPlane()
    anvil = Anvil(chain_id=L1_CHAIN_ID)
    beacon = BeaconStub()
    client: Client | None = None
    try:
        started = time.monotonic()
        log.info("starting the control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok)")
        plane.start()
        kubeconfig = str(plane.kubeconfig)
        log.info("starting anvil as L1 and deploying the OP Stack contracts", chain_id=L1_CHAIN_ID)
        anvil.start()
        op_stack = deploy_op_stack(anvil.url, l2_chain_id=L2_CHAIN_ID)
        beacon.start()
        log.info("installing the CRDs", folder=str(CRD_BASES))
        install_crds(kubeconfig, [CRD_BASES])
        client = Client.from_kubeconfig(kubeconfig)
        if args.namespace != DEFAULT_NAMESPACE:
            client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": args.namespace}})
        if not args.no_devnet:
            persistent_volumes(client, VOLUMES, "devnet-pv")
            Devnet(client, args.namespace, op_stack, beacon.url).apply()
            log.info("devnet applied", namespace=args.namespace, system_config=op_stack.system_config)
        log.info("environment ready", seconds=round(time.monotonic() - started, 1))

        metrics, health = free_port(), free_port()
        mgr = Manager(
            Client.from_kubeconfig(kubeconfig),
            metrics_bind_address=f"127.0.0.1:{metrics}",
            health_probe_bind_address=f"127.0.0.1:{health}",
        )
        setup_all(mgr)
        assert plane.assets is not None  # set by start()
        text = banner(kubeconfig, str(plane.assets / "kubectl"), args.namespace, anvil.url, metrics, health)

        def announce() -> None:
            # After the manager's start-up lines, so that the instructions are not buried under them.
            if mgr.elected.wait(120):
                time.sleep(0.5)
                print(text, flush=True)

        threading.Thread(target=announce, name="dev-banner", daemon=True).start()
        code = mgr.run()  # installs SIGINT/SIGTERM handlers; returns after a graceful stop
        log.info("operator stopped; stopping anvil and the control plane")
        return code
    except KeyboardInterrupt:  # Ctrl-C during set-up, before the manager owns the signal
        log.info("interrupted; stopping")
        return 130
    finally:
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()
        with contextlib.suppress(Exception):
            beacon.stop()
        anvil.stop()
        plane.stop()


if __name__ == "__main__":
    sys.exit(main())
