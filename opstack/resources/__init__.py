"""Pure builders of Kubernetes manifests (plain dicts) for the operator's children. No I/O."""
