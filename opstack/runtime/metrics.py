"""The runtime's Prometheus registry (controller-runtime's `metrics.Registry`).

Every runtime metric registers here, under controller-runtime's and client-go's names, so that
existing dashboards work; the manager serves this registry on `/metrics`.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry

REGISTRY = CollectorRegistry(auto_describe=True)
