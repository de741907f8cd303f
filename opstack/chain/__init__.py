"""L1/L2 access with web3: endpoint checks, contract discovery, the superchain registry, well-known networks.

The only package of the operator that talks to Ethereum. Plain inputs and outputs (dataclasses), no
Kubernetes imports: controllers call it and turn its results and typed errors into status and conditions.

- `l1`: `L1Client` (timeouts, metrics, typed errors), `check_l1`, `check_beacon`.
- `discovery`: `discover(DiscoveryRequest, L1Client)` for system-config, superchain-registry, well-known,
  manual and auto.
- `registry`: the packaged registry snapshot (`data/superchain-registry.json`) and user overrides.
- `wellknown`: the fixed table of registry networks by name, alias or chain id.
- `contracts`: `ContractAddresses`, with the API's and the registry's names.
"""
