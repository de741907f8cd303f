"""opstack-operator: OP Stack (Optimism) rollup infrastructure on Kubernetes."""

__version__ = "0.1.0"
