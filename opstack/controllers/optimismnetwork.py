"""The OptimismNetwork controller: validates what the schema cannot, checks L1, discovers the contracts,
publishes the rollup config and genesis, and keeps a network that components still reference from
disappearing.

One reconcile, in order:
1. Deletion: with components still referring to the network (the `spec.optimismNetworkRef` index), Ready is
   False with reason DeletionBlocked naming them (and a Warning Event); once none remain the finalizer goes
   and the API server deletes the network (its owned ConfigMaps are garbage-collected).
2. The finalizer is added (one metadata patch, the first time only).
3. ConfigurationValid: the Secret-held URLs resolve, referenced ConfigMaps and keys exist and hold JSON
   that matches the chain ids, a network that lets the binaries bring their own configuration is one they
   know. An inline document becomes a ConfigMap the network owns (server-side apply).
4. L1Connected: eth_chainId must equal spec.l1ChainID, then the head block; the beacon API when given.
   Re-checked every `l1_check_interval` (failures: backoff from `l1_retry_base`), not on every reconcile.
5. ContractsDiscovered: `opstack.chain.discover` per spec.contractAddresses.discoveryMethod, cached for
   cacheTimeout through status (see below).
6. Ready summarises the three; phase is Ready / Error / Pending / Terminating.

Invariants:
- A reconcile that finds the desired state writes nothing: status is compared with what is stored and
  written (status subresource, optimistic concurrency) only when it differs; owned ConfigMaps are applied
  only when the cached one differs; Events only on condition changes.
- Condition messages hold no value that moves on its own (no head number, no latency), so periodic checks
  rewrite nothing while the facts hold. The L1 snapshot in `status.networkInfo.l1` (head, latency,
  lastChecked) is refreshed when status is written for another reason, or when the stored snapshot is older
  than `l1_status_max_age` (default 10 min): a documented tolerance, one small write per network at most
  that often. 0 disables the age refresh.
- Discovery cache: a discovery that ran to the end (its result may report problems) is stored in status
  (`networkInfo.discoveredContracts`, with `discoveredAt` and `inputsHash`, a hash of the discovery inputs:
  method, chain ids, network name, the addresses given, and the registry override's content where the
  registry may be consulted). While `discoveredAt + cacheTimeout` lies ahead and the hash matches the spec,
  no RPC call is made for discovery, across operator restarts too (the cache is the status). A change of
  those inputs (a spec change, an edit of the override ConfigMap) invalidates the cache at once. The L1 URL
  is not an input (another endpoint of the same chain finds the same contracts) and is never hashed into
  status.
- Registry override (`spec.contractAddresses.registryOverride`): a ConfigMap key the user keeps current,
  read from the cache (the referenced-ConfigMap index re-reconciles the network when it changes) and
  validated as a whole; a missing or invalid one is ConfigurationValid False (naming the JSON path), and
  discovery that would consult the registry waits (keeping the addresses published before) rather than fall
  back to the snapshot.
- Secrets never reach a log, an Event or status: URLs appear only as `scheme://host[:port]`
  (`opstack.chain.l1.redact_url`), and messages about a Secret name the Secret and key, never the value.
- The controller talks to Ethereum only through `opstack.chain`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import structlog
from pydantic import ValidationError

from opstack.api.v1alpha1 import (
    CONDITION_CONFIGURATION_VALID,
    CONDITION_CONTRACTS_DISCOVERED,
    CONDITION_L1_CONNECTED,
    CONDITION_READY,
    OPTIMISM_NETWORK,
    ConfigSource,
    OptimismNetworkSpec,
)
from opstack.chain.contracts import ContractAddresses
from opstack.chain.discovery import (
    DiscoveryError,
    DiscoveryRequest,
    DiscoveryResult,
    Method,
    choose_method,
    discover,
)
from opstack.chain.l1 import (
    BeaconStatus,
    EndpointError,
    L1Client,
    L1Status,
    WrongChain,
    check_beacon,
    check_l1,
    redact_url,
)
from opstack.chain.registry import ChainInfo, RegistryFormatError, load_registry
from opstack.chain.wellknown import well_known
from opstack.controllers import optimismnetwork_rules  # noqa: F401  (the RBAC rules this controller needs)
from opstack.controllers.conditions import (
    FALSE,
    TRUE,
    UNKNOWN,
    Clock,
    Condition,
    ConditionSet,
    parse_rfc3339,
    rfc3339,
    summarize,
    utcnow,
)
from opstack.controllers.durations import format_duration, parse_duration
from opstack.controllers.indexes import (
    COMPONENT_KINDS,
    NETWORK_REF_INDEX,
    network_key,
    network_ref,
    register_network_ref_index,
)
from opstack.resources.config import secret_value
from opstack.runtime import errors
from opstack.runtime.builder import ControllerBuilder
from opstack.runtime.controller import Controller
from opstack.runtime.events import NORMAL, WARNING, EventRecorder, namespace_terminating
from opstack.runtime.frozen import thaw
from opstack.runtime.gvk import GVK
from opstack.runtime.handler import CreateEvent, DeleteEvent, EnqueueRequestsFromMapFunc, UpdateEvent
from opstack.runtime.predicate import Funcs, GenerationChangedPredicate, Or, Predicate
from opstack.runtime.reconcile import Request, Result

log = structlog.get_logger("opstack.controllers.optimismnetwork")

NETWORK = OPTIMISM_NETWORK.gvk
CONFIG_MAP = GVK("", "v1", "ConfigMap")
SECRET = GVK("", "v1", "Secret")
FINALIZER = OPTIMISM_NETWORK.finalizer  # optimismnetwork.optimism.io/finalizer
FIELD_MANAGER = "opstack-optimismnetwork"
CONTROLLER_NAME = "optimismnetwork"

# Indexes on OptimismNetwork: the ConfigMaps and Secrets a network refers to ("<namespace>/<name>").
CONFIG_MAP_REFS_INDEX = "optimismnetwork.configMapRefs"
SECRET_REFS_INDEX = "optimismnetwork.secretRefs"

# Keys of the ConfigMaps a network owns for inline documents; components mount these.
ROLLUP_KEY = "rollup.json"
GENESIS_KEY = "genesis.json"

REASON_DELETION_BLOCKED = "DeletionBlocked"
_URL = re.compile(r"^(https?|wss?)://[^\s/?#]+[^\s]*$")


@dataclass(frozen=True)
class Settings:
    """Timing of the controller; tests shorten these."""

    l1_check_interval: float = 60.0  # L1 (and beacon) re-checked this often while healthy
    l1_retry_base: float = 2.0  # first retry after an L1 failure; doubles up to l1_check_interval
    l1_status_max_age: float = 600.0  # refresh status.networkInfo.l1 at least this often (0: never)


# --- pure helpers ------------------------------------------------------------------------------------------


def owned_config_map_name(network: str, what: str) -> str:
    """`<network>-rollup-config` / `<network>-genesis`, shortened with a hash when too long for a name."""
    name = f"{network}-{what}"
    if len(name) <= 253:
        return name
    digest = hashlib.sha256(network.encode()).hexdigest()[:10]
    return f"{network[: 253 - len(what) - 12]}-{digest}-{what}"


def builtin_network(spec: OptimismNetworkSpec) -> ChainInfo | None:
    """The registry network whose configuration op-node (`--network`) and op-geth (`--op-network`) carry
    built in, if this network is one: by spec.networkName, else by spec.chainID; the L1 must match."""
    chain = well_known(spec.network_name, None) if spec.network_name else well_known(None, spec.chain_id)
    if chain is None or chain.chain_id != spec.chain_id or chain.l1_chain_id != spec.l1_chain_id:
        return None
    if not chain.op_node_network and not chain.op_geth_network:
        return None
    return chain


def discovery_request(spec: OptimismNetworkSpec, registry_override: str | None = None) -> DiscoveryRequest:
    """What discovery is asked; `registry_override` is the text of the spec's registryOverride key."""
    given = spec.contract_addresses.model_dump(by_alias=True, exclude_none=True)
    return DiscoveryRequest(
        method=spec.contract_addresses.discovery_method,
        l1_chain_id=spec.l1_chain_id,
        l2_chain_id=spec.chain_id,
        network=spec.network_name,
        addresses=ContractAddresses.from_api(given),
        registry_override=registry_override,
    )


def consults_registry(request: DiscoveryRequest) -> bool:
    """Whether the method may read the superchain registry (and so the user's override of it)."""
    method = str(request.method)
    return method == Method.SUPERCHAIN_REGISTRY.value or (
        method == Method.AUTO.value and not request.addresses.system_config
    )


def discovery_inputs_hash(request: DiscoveryRequest) -> str:
    """A short, stable hash of what discovery depends on (never of a URL or a secret)."""
    doc: dict[str, Any] = {
        "method": str(Method(request.method).value),
        "l1ChainID": request.l1_chain_id,
        "chainID": request.l2_chain_id,
        "network": request.network,
        "addresses": request.addresses.to_api(),
    }
    override = request.registry_override
    if override is not None and consults_registry(request):
        text = override if isinstance(override, str) else json.dumps(override, sort_keys=True)
        doc["registryOverride"] = hashlib.sha256(text.encode()).hexdigest()
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def inputs_hash_of(discovered: Mapping[str, Any] | None) -> str | None:
    """The inputs hash stored with discovered contracts (`status.networkInfo.discoveredContracts`)."""
    value = (discovered or {}).get("inputsHash")
    return str(value) if value else None


@functools.lru_cache(maxsize=16)
def registry_override_error(text: str) -> str | None:
    """Why the registry override `text` cannot be used (the JSON path and the fix), or None."""
    try:
        load_registry(text)
    except RegistryFormatError as exc:
        return str(exc)
    return None


def references(obj: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """("ns/name" of referenced ConfigMaps, of referenced Secrets) of an OptimismNetwork object."""
    meta = obj.get("metadata") or {}
    namespace = str(meta.get("namespace") or "")
    spec = obj.get("spec") or {}
    config_maps: list[str] = []
    secrets: list[str] = []
    for field_name in ("rollupConfig", "l2Genesis"):
        source = spec.get(field_name)
        ref = source.get("configMapRef") if isinstance(source, Mapping) else None
        if isinstance(ref, Mapping) and ref.get("name"):
            config_maps.append(network_key(namespace, str(ref["name"])))
    contracts = spec.get("contractAddresses")
    ref = contracts.get("registryOverride") if isinstance(contracts, Mapping) else None
    if isinstance(ref, Mapping) and ref.get("name"):
        config_maps.append(network_key(namespace, str(ref["name"])))
    for field_name in ("l1RpcUrlSecretRef", "l1BeaconUrlSecretRef"):
        ref = spec.get(field_name)
        if isinstance(ref, Mapping) and ref.get("name"):
            secrets.append(network_key(namespace, str(ref["name"])))
    return sorted(set(config_maps)), sorted(set(secrets))


def index_config_map_refs(obj: Mapping[str, Any]) -> list[str]:
    return references(obj)[0]


def index_secret_refs(obj: Mapping[str, Any]) -> list[str]:
    return references(obj)[1]


@dataclass(frozen=True)
class DocumentFacts:
    """What the controller reads from a rollup.json / genesis.json: whether it is a JSON object, and the
    chain facts it states."""

    error: str | None = None
    l1_chain_id: int | None = None
    l2_chain_id: int | None = None
    block_time: int | None = None


@functools.lru_cache(maxsize=64)
def read_rollup_config(text: str) -> DocumentFacts:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        return DocumentFacts(error=f"is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})")
    if not isinstance(doc, dict):
        return DocumentFacts(
            error="is not a JSON object (rollup.json is an object with genesis, block_time, ...)"
        )
    return DocumentFacts(
        l1_chain_id=_int_or_none(doc.get("l1_chain_id")),
        l2_chain_id=_int_or_none(doc.get("l2_chain_id")),
        block_time=_int_or_none(doc.get("block_time")),
    )


@functools.lru_cache(maxsize=16)
def read_genesis(text: str) -> DocumentFacts:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        return DocumentFacts(error=f"is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})")
    if not isinstance(doc, dict):
        return DocumentFacts(error="is not a JSON object (genesis.json is an object with config, alloc, ...)")
    config = doc.get("config")
    return DocumentFacts(
        l2_chain_id=_int_or_none(config.get("chainId")) if isinstance(config, dict) else None
    )


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value, 0)
        except ValueError:
            return None
    return None


def _phase(conditions: ConditionSet, deleting: bool) -> str:
    if deleting:
        return "Terminating"
    if conditions.status(CONDITION_READY) == TRUE:
        return "Ready"
    types = (CONDITION_CONFIGURATION_VALID, CONDITION_L1_CONNECTED, CONDITION_CONTRACTS_DISCOVERED)
    if any(conditions.status(t) == FALSE for t in types):
        return "Error"
    return "Pending"


# --- what a reconcile resolves -----------------------------------------------------------------------------


@dataclass
class ConfigFile:
    """Where a component gets rollup.json or genesis.json from."""

    kind: str  # "configMap" | "inline" | "builtin" | "missing"
    config_map: str | None = None  # the ConfigMap to mount (referenced, or owned for inline)
    key: str | None = None
    inline: str | None = None
    facts: DocumentFacts = field(default_factory=DocumentFacts)


@dataclass
class Resolved:
    """The inputs of one reconcile, after validation."""

    problem: Condition | None = None  # the first configuration problem (ConfigurationValid False)
    l1_url: str | None = None
    l1_field: str = "spec.l1RpcUrl"
    beacon_url: str | None = None
    timeout: float = 10.0
    cache_timeout: float = 86400.0
    rollup: ConfigFile = field(default_factory=lambda: ConfigFile("missing"))
    genesis: ConfigFile = field(default_factory=lambda: ConfigFile("missing"))
    builtin: ChainInfo | None = None
    registry_override: str | None = None  # the text of spec.contractAddresses.registryOverride, when valid
    registry_override_unusable: bool = False  # named in the spec, but missing or invalid


class ConfigProblem(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


# --- L1 check memory ---------------------------------------------------------------------------------------


@dataclass
class L1Record:
    """The last L1 check of one network (in memory: after a restart L1 is checked once more)."""

    uid: str  # the network object checked (a recreated network is checked afresh)
    inputs: str  # hash of URL, beacon URL, chain id, timeout: a change forces a check
    checked_at: float  # monotonic
    status: L1Status | None = None
    beacon: BeaconStatus | None = None
    error: Condition | None = None
    failures: int = 0
    client: L1Client | None = None
    reported_chain_id: int | None = None  # what a WrongChain endpoint said it serves

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None


@dataclass(frozen=True)
class WrittenStatus:
    """The last status this controller wrote for a network, and the resourceVersions around the write."""

    uid: str
    based_on: str  # the resourceVersion the write was made on
    resource_version: str  # the resourceVersion the write produced
    status: Mapping[str, Any]


# --- the reconciler ----------------------------------------------------------------------------------------


class OptimismNetworkReconciler:
    def __init__(
        self,
        client: Any,
        cache: Any,
        recorder: EventRecorder,
        settings: Settings | None = None,
        *,
        now: Clock = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        l1_client: Callable[[str, float], L1Client] = L1Client,
    ) -> None:
        self.client = client
        self.cache = cache
        self.recorder = recorder
        self.settings = settings or Settings()
        self.now = now
        self.monotonic = monotonic
        self.l1_client = l1_client
        self._l1: dict[str, L1Record] = {}
        self._written: dict[str, WrittenStatus] = {}
        self._lock = threading.Lock()

    # -- mapping functions for watches

    def networks_for_config_map(self, obj: Mapping[str, Any]) -> list[Request]:
        return self._networks_by(CONFIG_MAP_REFS_INDEX, obj)

    def networks_for_secret(self, obj: Mapping[str, Any]) -> list[Request]:
        return self._networks_by(SECRET_REFS_INDEX, obj)

    def _networks_by(self, index: str, obj: Mapping[str, Any]) -> list[Request]:
        meta = obj.get("metadata") or {}
        key = network_key(str(meta.get("namespace") or ""), str(meta.get("name") or ""))
        return [Request.for_object(n) for n in self.cache.list(NETWORK, index=(index, key))]

    @staticmethod
    def network_of_component(obj: Mapping[str, Any]) -> list[Request]:
        ref = network_ref(obj)
        return [Request(*ref)] if ref is not None else []

    # -- reconcile

    def reconcile(self, request: Request) -> Result:
        try:
            network = self.cache.get(NETWORK, request.name, request.namespace)
        except errors.NotFound:
            self._forget(request)
            return Result()
        meta = network["metadata"]
        if meta.get("deletionTimestamp"):
            return self._finalize(network)
        if FINALIZER not in (meta.get("finalizers") or ()):
            # The finalizer first, alone: the watch event of this patch brings the network back with a
            # fresh resourceVersion for the status write (writing status now would conflict).
            self._add_finalizer(network)
            return Result()
        return self._reconcile(network)

    def _reconcile(self, network: Mapping[str, Any]) -> Result:
        meta = network["metadata"]
        generation = meta.get("generation")
        network = self._own_view(network)
        stored_status: Mapping[str, Any] = network.get("status") or {}
        stored_info: Mapping[str, Any] = stored_status.get("networkInfo") or {}
        conditions = ConditionSet(
            stored_status.get("conditions"), observed_generation=generation, now=self.now
        )

        resolved, spec = self._resolve(network)
        if resolved.problem is not None:
            conditions.set(
                Condition(
                    CONDITION_CONFIGURATION_VALID, FALSE, resolved.problem.reason, resolved.problem.message
                )
            )
        else:
            conditions.set(
                Condition(CONDITION_CONFIGURATION_VALID, TRUE, "Valid", self._valid_message(resolved))
            )
        if spec is not None:
            self._sync_owned_config_maps(network, resolved)

        requeue: list[float] = []
        record = self._check_l1(network, resolved, requeue) if spec is not None else None
        if record is None:
            conditions.set(
                Condition(
                    CONDITION_L1_CONNECTED,
                    UNKNOWN,
                    "WaitingForConfiguration",
                    "L1 is checked once the configuration is valid (see ConfigurationValid)",
                )
            )
        elif record.error is not None:
            conditions.set(record.error)
        else:
            conditions.set(self._l1_connected(record, resolved))

        discovered = (
            self._discover(spec, resolved, record, stored_info, conditions, requeue) if spec else None
        )
        conditions.set(
            summarize(
                conditions.to_list(),
                (CONDITION_CONFIGURATION_VALID, CONDITION_L1_CONNECTED, CONDITION_CONTRACTS_DISCOVERED),
                "the configuration is valid, L1 answers and the contracts are known",
            )
        )

        info = self._network_info(resolved, record, discovered, stored_info, fresh_l1=False)
        desired = {
            "phase": _phase(conditions, deleting=False),
            "observedGeneration": generation,
            "conditions": conditions.to_list(),
            "networkInfo": info,
        }
        if _prune(desired) != _prune(thaw(stored_status)):
            desired["networkInfo"] = self._network_info(
                resolved, record, discovered, stored_info, fresh_l1=True
            )
            self._write_status(network, desired)
            self._record_events(network, conditions)
        return Result(requeue_after=min(requeue)) if requeue else Result()

    # -- configuration

    def _resolve(self, network: Mapping[str, Any]) -> tuple[Resolved, OptimismNetworkSpec | None]:
        resolved = Resolved()
        try:
            spec = OptimismNetworkSpec.model_validate(network.get("spec") or {})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = "spec." + ".".join(str(p) for p in first.get("loc", ()))
            resolved.problem = Condition(
                CONDITION_CONFIGURATION_VALID,
                FALSE,
                "SpecInvalid",
                f"{where}: {first.get('msg')}; correct the field (kubectl explain optimismnetwork.{where})",
            )
            return resolved, None
        namespace = str(network["metadata"].get("namespace") or "")
        try:
            resolved.timeout = parse_duration(spec.l1_rpc_timeout) or 10.0
            resolved.cache_timeout = parse_duration(spec.contract_addresses.cache_timeout)
            resolved.l1_url, resolved.l1_field = self._url(
                namespace, spec.l1_rpc_url, spec.l1_rpc_url_secret_ref, "l1RpcUrl", "L1 RPC URL"
            )
            resolved.beacon_url, _ = self._url(
                namespace, spec.l1_beacon_url, spec.l1_beacon_url_secret_ref, "l1BeaconUrl", "L1 beacon URL"
            )
            resolved.builtin = builtin_network(spec)
            resolved.rollup = self._config_file(
                network, namespace, spec, spec.rollup_config, "rollupConfig", "rollup-config", ROLLUP_KEY
            )
            resolved.genesis = self._config_file(
                network, namespace, spec, spec.l2_genesis, "l2Genesis", "genesis", GENESIS_KEY
            )
        except ConfigProblem as problem:
            resolved.problem = Condition(
                CONDITION_CONFIGURATION_VALID, FALSE, problem.reason, problem.message
            )
        except ValueError as exc:  # a duration the schema should have refused
            resolved.problem = Condition(CONDITION_CONFIGURATION_VALID, FALSE, "SpecInvalid", str(exc))
        try:
            resolved.registry_override = self._registry_override(namespace, spec)
        except ConfigProblem as problem:
            resolved.registry_override_unusable = True
            if resolved.problem is None:
                resolved.problem = Condition(
                    CONDITION_CONFIGURATION_VALID, FALSE, problem.reason, problem.message
                )
        return resolved, spec

    def _referenced_data(
        self, gvk: GVK, namespace: str, ref: Any, where: str, what: str, or_else: str = ""
    ) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
        """The ConfigMap or Secret a spec field refers to, and its data; a ConfigProblem naming the field and
        the fix when the object or its key is missing (`or_else` offers another way out)."""
        kind = gvk.kind
        try:
            obj = self.cache.get(gvk, ref.name, namespace)
        except errors.NotFound:
            raise ConfigProblem(
                f"{kind}NotFound",
                f"{where}: {kind} {namespace}/{ref.name} not found; create it with key {ref.key!r} "
                f"holding the {what}, or correct {where}.name{or_else}",
            ) from None
        data = obj.get("data") or {}
        if ref.key not in data:
            keys = ", ".join(sorted(data)) or "none"
            raise ConfigProblem(
                f"{kind}KeyMissing",
                f"{where}: {kind} {namespace}/{ref.name} has no key {ref.key!r} (its keys: {keys}); "
                f"add the key with the {what}, or correct {where}.key",
            )
        return obj, data

    def _registry_override(self, namespace: str, spec: OptimismNetworkSpec) -> str | None:
        """The registry data of spec.contractAddresses.registryOverride, validated; None when unset."""
        ref = spec.contract_addresses.registry_override
        if ref is None:
            return None
        where = "spec.contractAddresses.registryOverride"
        what = "superchain-registry data (JSON, the shape of the operator's snapshot)"
        _, data = self._referenced_data(
            CONFIG_MAP,
            namespace,
            ref,
            where,
            what,
            f" (or remove {where} to use the snapshot shipped with the operator)",
        )
        text = str(data[ref.key])
        error = registry_override_error(text)
        if error is not None:
            raise ConfigProblem(
                "RegistryOverrideInvalid",
                f"{where} (ConfigMap {ref.name}, key {ref.key}): {error}; fix the JSON in that key, or "
                f"remove {where} to use the snapshot shipped with the operator",
            )
        return text

    def _url(
        self, namespace: str, url: str | None, ref: Any, field_name: str, what: str
    ) -> tuple[str | None, str]:
        if ref is None:
            return url, f"spec.{field_name}"
        where = f"spec.{field_name}SecretRef"
        secret, _ = self._referenced_data(SECRET, namespace, ref, where, what)
        try:
            value = (secret_value(secret, ref.key) or b"").decode().strip()
        except ValueError:  # not base64 (SecretValueError) or not UTF-8 (UnicodeDecodeError)
            value = ""
        if not _URL.match(value):
            raise ConfigProblem(
                "SecretValueInvalid",
                f"{where}: key {ref.key!r} of Secret {namespace}/{ref.name} does not hold an http(s) or "
                f"ws(s) URL; store the {what} itself (e.g. https://host/path) in that key",
            )
        return value, f"{where} (Secret {ref.name}, key {ref.key})"

    def _config_file(
        self,
        network: Mapping[str, Any],
        namespace: str,
        spec: OptimismNetworkSpec,
        source: ConfigSource | None,
        field_name: str,
        suffix: str,
        key: str,
    ) -> ConfigFile:
        where = f"spec.{field_name}"
        document = "rollup.json" if key == ROLLUP_KEY else "genesis.json"
        read = read_rollup_config if key == ROLLUP_KEY else read_genesis
        if source is None or source.auto_discover:
            chain = builtin_network(spec)
            if chain is None:
                name = f"network {spec.network_name!r}" if spec.network_name else "this network"
                raise ConfigProblem(
                    "AutoDiscoverUnsupported",
                    f"{where}: {name} (chain id {spec.chain_id} on L1 {spec.l1_chain_id}) is not a "
                    f"superchain registry network, so op-node and op-geth have no built-in {document} for "
                    f"it; set {where}.configMapRef (or {where}.inline) to its {document}",
                )
            return ConfigFile("builtin")
        if source.inline is not None:
            facts = read(source.inline)
            self._check_document(facts, spec, f"{where}.inline", document)
            name = owned_config_map_name(network["metadata"]["name"], suffix)
            self._check_owned_name(network, namespace, name, where)
            return ConfigFile("inline", config_map=name, key=key, inline=source.inline, facts=facts)
        ref = source.config_map_ref
        assert ref is not None  # the schema's CEL rule: exactly one of inline, configMapRef, autoDiscover
        ref_where = f"{where}.configMapRef"
        _, data = self._referenced_data(CONFIG_MAP, namespace, ref, ref_where, document)
        facts = read(str(data[ref.key]))
        self._check_document(facts, spec, f"{ref_where} (ConfigMap {ref.name}, key {ref.key})", document)
        return ConfigFile("configMap", config_map=ref.name, key=ref.key, facts=facts)

    def _check_owned_name(self, network: Mapping[str, Any], namespace: str, name: str, where: str) -> None:
        try:
            current = self.cache.get(CONFIG_MAP, name, namespace)
        except errors.NotFound:
            return
        uid = network["metadata"]["uid"]
        if not any(
            r.get("uid") == uid and r.get("controller")
            for r in current["metadata"].get("ownerReferences") or ()
        ):
            raise ConfigProblem(
                "ConfigMapConflict",
                f"{where}.inline: ConfigMap {namespace}/{name}, where the operator publishes the inline "
                f"document, exists and is not owned by this network; delete or rename it, or use "
                f"{where}.configMapRef",
            )

    @staticmethod
    def _check_document(facts: DocumentFacts, spec: OptimismNetworkSpec, where: str, document: str) -> None:
        prefix = "RollupConfig" if document == "rollup.json" else "Genesis"
        if facts.error is not None:
            raise ConfigProblem(
                f"{prefix}Invalid", f"{where}: the {document} {facts.error}; fix the document"
            )
        field_l2 = "l2_chain_id" if document == "rollup.json" else "config.chainId"
        if facts.l2_chain_id is not None and facts.l2_chain_id != spec.chain_id:
            raise ConfigProblem(
                f"{prefix}Mismatch",
                f"{where}: the {document} says {field_l2} {facts.l2_chain_id}, but spec.chainID is "
                f"{spec.chain_id}; use the {document} of this chain or correct spec.chainID",
            )
        if facts.l1_chain_id is not None and facts.l1_chain_id != spec.l1_chain_id:
            raise ConfigProblem(
                f"{prefix}Mismatch",
                f"{where}: the {document} says l1_chain_id {facts.l1_chain_id}, but spec.l1ChainID is "
                f"{spec.l1_chain_id}; use the {document} of this chain or correct spec.l1ChainID",
            )

    @staticmethod
    def _valid_message(resolved: Resolved) -> str:
        parts = []
        for what, file in (("rollup config", resolved.rollup), ("genesis", resolved.genesis)):
            if file.kind == "builtin" and resolved.builtin is not None:
                parts.append(
                    f"{what}: built into the binaries (op-node --network={resolved.builtin.op_node_network}, "
                    f"op-geth --op-network={resolved.builtin.op_geth_network})"
                )
            elif file.kind == "inline":
                parts.append(f"{what}: inline, published in ConfigMap {file.config_map} key {file.key}")
            elif file.kind == "configMap":
                parts.append(f"{what}: ConfigMap {file.config_map} key {file.key}")
        return "; ".join(parts) or "valid"

    def _sync_owned_config_maps(self, network: Mapping[str, Any], resolved: Resolved) -> None:
        """Inline documents -> ConfigMaps the network owns (applied when they differ); owned ConfigMaps of a
        document that is no longer inline are deleted."""
        meta = network["metadata"]
        namespace = str(meta["namespace"])
        for suffix, file in (("rollup-config", resolved.rollup), ("genesis", resolved.genesis)):
            name = owned_config_map_name(meta["name"], suffix)
            try:
                current: Mapping[str, Any] | None = self.cache.get(CONFIG_MAP, name, namespace)
            except errors.NotFound:
                current = None
            owned = current is not None and any(
                r.get("uid") == meta["uid"] and r.get("controller")
                for r in current["metadata"].get("ownerReferences") or ()
            )
            if file.kind == "inline" and file.inline is not None and file.key is not None:
                desired_data = {file.key: file.inline}
                labels = _labels(meta["name"], suffix)
                if (
                    current is not None
                    and owned
                    and dict(current.get("data") or {}) == desired_data
                    and all((current["metadata"].get("labels") or {}).get(k) == v for k, v in labels.items())
                ):
                    continue
                if current is not None and not owned:
                    continue  # reported by _config_file as ConfigMapConflict
                try:
                    self.client.apply(
                        {
                            "apiVersion": "v1",
                            "kind": "ConfigMap",
                            "metadata": {
                                "name": name,
                                "namespace": namespace,
                                "labels": labels,
                                "ownerReferences": [_owner_ref(network)],
                            },
                            "data": desired_data,
                        },
                        field_manager=FIELD_MANAGER,
                    )
                except errors.Forbidden as exc:
                    if namespace_terminating(exc):
                        continue  # the namespace and the network with it are going away
                    raise
                log.info(
                    "published inline document", network=meta["name"], namespace=namespace, configmap=name
                )
            elif current is not None and owned and resolved.problem is None:
                with contextlib.suppress(errors.NotFound):
                    self.client.delete(
                        CONFIG_MAP, name, namespace, preconditions={"uid": current["metadata"]["uid"]}
                    )

    # -- L1

    def _check_l1(
        self, network: Mapping[str, Any], resolved: Resolved, requeue: list[float]
    ) -> L1Record | None:
        if resolved.l1_url is None:
            return None
        spec = network["spec"]
        meta = network["metadata"]
        key = network_key(str(meta["namespace"]), str(meta["name"]))
        inputs = hashlib.sha256(
            json.dumps(
                [resolved.l1_url, resolved.beacon_url, spec.get("l1ChainID"), resolved.timeout]
            ).encode()
        ).hexdigest()
        now = self.monotonic()
        with self._lock:
            record = self._l1.get(key)
        if record is not None and (record.uid != str(meta["uid"]) or record.inputs != inputs):
            record = None
        if record is not None:
            due_in = record.checked_at + self._interval(record) - now
            if due_in > 0.05:
                requeue.append(due_in)
                return record
        if urlsplit(resolved.l1_url).scheme in ("ws", "wss"):
            # L1Client speaks HTTP; a WebSocket endpoint is handed to the components unchecked.
            new = L1Record(uid=str(meta["uid"]), inputs=inputs, checked_at=now)
            new.error = Condition(
                CONDITION_L1_CONNECTED,
                UNKNOWN,
                "L1WebSocketNotChecked",
                f"{resolved.l1_field}: the operator checks L1 over http(s) only, so this ws(s) endpoint is "
                f"passed to the components unchecked (and system-config/manual discovery cannot run); give "
                f"the http(s) URL of the same node to have it checked",
            )
            with self._lock:
                self._l1[key] = new
            requeue.append(self.settings.l1_check_interval)
            return new
        client = record.client if record is not None else None
        client = client or self.l1_client(resolved.l1_url, resolved.timeout)
        new = L1Record(uid=str(meta["uid"]), inputs=inputs, checked_at=now, client=client)
        l1_chain_id = int(spec["l1ChainID"])
        try:
            new.status = check_l1(client, l1_chain_id, now=self.now)
        except EndpointError as err:
            if isinstance(err, WrongChain):
                new.reported_chain_id = err.actual
            new.error = Condition(
                CONDITION_L1_CONNECTED,
                FALSE,
                err.reason,
                f"{resolved.l1_field}: {err}{_fix_hint(err, resolved.l1_field)}",
            )
        if new.error is None and resolved.beacon_url is not None:
            try:
                new.beacon = check_beacon(
                    resolved.beacon_url, l1_chain_id, timeout=resolved.timeout, now=self.now
                )
            except EndpointError as err:
                field_name = "spec.l1BeaconUrl" + ("SecretRef" if spec.get("l1BeaconUrlSecretRef") else "")
                new.error = Condition(
                    CONDITION_L1_CONNECTED,
                    FALSE,
                    err.reason,
                    f"{field_name}: {err}{_fix_hint(err, field_name)}",
                )
        if new.error is not None:
            new.failures = (record.failures if record is not None else 0) + 1
            log.info(
                "L1 check failed",
                network=network["metadata"]["name"],
                namespace=network["metadata"]["namespace"],
                reason=new.error.reason,
                endpoint=redact_url(resolved.l1_url),
            )
        with self._lock:
            self._l1[key] = new
        requeue.append(self._interval(new))
        return new

    def _interval(self, record: L1Record) -> float:
        if record.error is None:
            return self.settings.l1_check_interval
        backoff: float = self.settings.l1_retry_base * 2.0 ** max(0, record.failures - 1)
        return min(self.settings.l1_check_interval, backoff)

    @staticmethod
    def _l1_connected(record: L1Record, resolved: Resolved) -> Condition:
        assert record.status is not None and resolved.l1_url is not None
        message = f"chain {record.status.chain_id} answers at {redact_url(resolved.l1_url)}"
        if record.beacon is not None and resolved.beacon_url is not None:
            message += f"; beacon {redact_url(resolved.beacon_url)} answers ({record.beacon.version})"
        return Condition(CONDITION_L1_CONNECTED, TRUE, "Connected", message)

    # -- discovery

    def _discover(
        self,
        spec: OptimismNetworkSpec,
        resolved: Resolved,
        record: L1Record | None,
        stored_info: Mapping[str, Any],
        conditions: ConditionSet,
        requeue: list[float],
    ) -> dict[str, Any] | None:
        """Sets ContractsDiscovered; returns the discoveredContracts status (None: none known)."""
        request = discovery_request(spec, resolved.registry_override)
        stored = stored_info.get("discoveredContracts")
        if resolved.registry_override_unusable and consults_registry(request):
            # Not the snapshot in place of the data the user named: wait, keeping what is published.
            conditions.set(
                Condition(
                    CONDITION_CONTRACTS_DISCOVERED,
                    UNKNOWN,
                    "WaitingForConfiguration",
                    "discovery reads the registry override in spec.contractAddresses.registryOverride; "
                    "waiting for it to be usable (see ConfigurationValid)",
                )
            )
            return dict(thaw(stored)) if stored is not None else None
        inputs = discovery_inputs_hash(request)
        same_inputs = stored is not None and inputs_hash_of(stored) == inputs
        if same_inputs and stored is not None:
            discovered_at = parse_rfc3339(stored.get("discoveredAt"))
            if discovered_at is not None:
                left = (
                    discovered_at + timedelta(seconds=resolved.cache_timeout) - self.now()
                ).total_seconds()
                if left > 0:
                    conditions.refresh(CONDITION_CONTRACTS_DISCOVERED)
                    requeue.append(left)
                    return dict(thaw(stored))
        keep = dict(thaw(stored)) if same_inputs and stored is not None else None
        try:
            method, _why = choose_method(request)
        except DiscoveryError as exc:
            conditions.set(
                Condition(CONDITION_CONTRACTS_DISCOVERED, FALSE, exc.reason, f"spec.contractAddresses: {exc}")
            )
            return None
        needs_l1 = method in (Method.SYSTEM_CONFIG, Method.MANUAL)
        if needs_l1 and (record is None or not record.ok):
            conditions.set(
                Condition(
                    CONDITION_CONTRACTS_DISCOVERED,
                    UNKNOWN,
                    "WaitingForL1",
                    f"discovery with {method.value} reads L1; waiting for L1Connected",
                )
            )
            return keep
        try:
            result = discover(request, record.client if record is not None else None, now=self.now)
        except DiscoveryError as exc:
            conditions.set(
                Condition(CONDITION_CONTRACTS_DISCOVERED, FALSE, exc.reason, f"spec.contractAddresses: {exc}")
            )
            return None
        except EndpointError as err:
            conditions.set(
                Condition(
                    CONDITION_CONTRACTS_DISCOVERED,
                    FALSE,
                    err.reason,
                    f"{resolved.l1_field}: {err} (during discovery)",
                )
            )
            requeue.append(self.settings.l1_retry_base)
            return keep
        conditions.set(self._discovered(result, resolved))
        requeue.append(resolved.cache_timeout)
        return {**result.to_api_status(), "inputsHash": inputs}

    @staticmethod
    def _discovered(result: DiscoveryResult, resolved: Resolved) -> Condition:
        count = len(result.addresses.to_api())
        cached = f"trusted for {format_duration(resolved.cache_timeout)}"
        if result.problems:
            listed = "; ".join(p.message for p in result.problems)
            return Condition(
                CONDITION_CONTRACTS_DISCOVERED,
                FALSE,
                result.problems[0].reason,
                f"{len(result.problems)} problem(s) with {result.method.value} ({result.source}): {listed}; "
                f"{count} addresses found are published; correct spec.contractAddresses; {cached}",
            )
        return Condition(
            CONDITION_CONTRACTS_DISCOVERED,
            TRUE,
            "Discovered",
            f"{count} addresses with {result.method.value} from {result.source} ({result.why}); {cached}",
        )

    # -- status

    def _network_info(
        self,
        resolved: Resolved,
        record: L1Record | None,
        discovered: Mapping[str, Any] | None,
        stored_info: Mapping[str, Any],
        *,
        fresh_l1: bool,
    ) -> dict[str, Any]:
        info: dict[str, Any] = {}
        l1 = self._l1_info(record, stored_info.get("l1"), fresh=fresh_l1)
        if l1:
            info["l1"] = l1
        if discovered:
            info["discoveredContracts"] = dict(discovered)
            if discovered.get("unsafeBlockSigner"):
                info["unsafeBlockSigner"] = discovered["unsafeBlockSigner"]
        if resolved.rollup.config_map:
            info["rollupConfigMap"] = resolved.rollup.config_map
        if resolved.genesis.config_map:
            info["genesisConfigMap"] = resolved.genesis.config_map
        if resolved.builtin is not None:
            if resolved.rollup.kind == "builtin" and resolved.builtin.op_node_network:
                info["opNodeNetwork"] = resolved.builtin.op_node_network
            if resolved.genesis.kind == "builtin" and resolved.builtin.op_geth_network:
                info["opGethNetwork"] = resolved.builtin.op_geth_network
        block_time = resolved.rollup.facts.block_time
        if block_time is None and resolved.rollup.kind == "builtin" and resolved.builtin is not None:
            block_time = resolved.builtin.block_time
        if block_time is not None:
            info["blockTime"] = block_time
        return info

    def _l1_info(
        self, record: L1Record | None, stored: Mapping[str, Any] | None, *, fresh: bool
    ) -> dict[str, Any]:
        """The L1 snapshot for status; unless `fresh`, the stored one while it agrees and is young enough."""
        if record is None:
            return thaw(stored) if stored else {}
        observed: dict[str, Any] = {}
        if record.status is not None:
            observed = {
                "chainID": record.status.chain_id,
                "headBlock": record.status.head_number,
                "headTime": rfc3339(record.status.head_time),
                "latencyMs": round(record.status.latency_seconds * 1000),
                "lastChecked": rfc3339(record.status.checked_at),
            }
        elif stored:
            observed = {k: v for k, v in thaw(stored).items() if k != "beaconReachable"}
        if record.reported_chain_id is not None:
            observed["chainID"] = record.reported_chain_id
        if record.beacon is not None:
            observed["beaconReachable"] = True
        elif record.error is not None and record.error.reason.startswith("Beacon"):
            observed["beaconReachable"] = False
        if fresh or not stored:
            return observed
        max_age = self.settings.l1_status_max_age
        checked = parse_rfc3339(stored.get("lastChecked"))
        young = max_age <= 0 or (checked is not None and (self.now() - checked).total_seconds() < max_age)
        same = all(stored.get(k) == observed.get(k) for k in ("chainID", "beaconReachable"))
        return thaw(stored) if young and same else observed

    def _own_view(self, network: Mapping[str, Any]) -> Mapping[str, Any]:
        """The network as this controller last wrote it, while the cache has not caught up with that write.

        Without this, a reconcile that runs between a status write and its watch event would see the old
        status: it would redo a discovery that is already stored, and its write would conflict."""
        meta = network["metadata"]
        with self._lock:
            written = self._written.get(network_key(str(meta["namespace"]), str(meta["name"])))
        if written is None or written.uid != meta["uid"] or written.based_on != meta["resourceVersion"]:
            return network
        view = thaw(network)
        view["metadata"]["resourceVersion"] = written.resource_version
        view["status"] = thaw(written.status)
        return dict(view)

    def _write_status(self, network: Mapping[str, Any], status: dict[str, Any]) -> None:
        obj = thaw(network)
        obj["status"] = _prune(status)
        based_on = str(obj["metadata"]["resourceVersion"])
        updated = self.client.update_status(obj, field_manager=FIELD_MANAGER)
        meta = updated["metadata"]
        with self._lock:
            self._written[network_key(str(meta["namespace"]), str(meta["name"]))] = WrittenStatus(
                uid=str(meta["uid"]),
                based_on=based_on,
                resource_version=str(meta["resourceVersion"]),
                status=updated.get("status") or {},
            )

    def _record_events(self, network: Mapping[str, Any], conditions: ConditionSet) -> None:
        for type_ in (CONDITION_CONFIGURATION_VALID, CONDITION_L1_CONNECTED, CONDITION_CONTRACTS_DISCOVERED):
            cond = conditions.get(type_)
            if cond is not None and cond.get("status") == FALSE and conditions.changed(type_):
                self.recorder.event(network, WARNING, str(cond["reason"]), str(cond["message"]))
        if conditions.status(CONDITION_READY) == TRUE and conditions.flipped(CONDITION_READY):
            ready = conditions.get(CONDITION_READY)
            self.recorder.event(network, NORMAL, "Ready", str(ready.get("message") if ready else "ready"))

    # -- finalizer

    def _add_finalizer(self, network: Mapping[str, Any]) -> None:
        meta = network["metadata"]
        finalizers = [*(meta.get("finalizers") or ()), FINALIZER]
        self.client.patch(
            NETWORK,
            meta["name"],
            {"metadata": {"finalizers": finalizers, "resourceVersion": meta["resourceVersion"]}},
            meta["namespace"],
            patch_type="merge",
        )

    def referencing_components(self, network: Mapping[str, Any]) -> list[str]:
        """ "Kind namespace/name" of every component whose spec.optimismNetworkRef names this network."""
        meta = network["metadata"]
        key = network_key(str(meta["namespace"]), str(meta["name"]))
        found: list[str] = []
        for gvk in COMPONENT_KINDS:
            for obj in self.cache.list(gvk, index=(NETWORK_REF_INDEX, key)):
                m = obj["metadata"]
                found.append(f"{gvk.kind} {m.get('namespace')}/{m['name']}")
        return sorted(found)

    def _finalize(self, network: Mapping[str, Any]) -> Result:
        network = self._own_view(network)
        meta = network["metadata"]
        if FINALIZER not in (meta.get("finalizers") or ()):
            return Result()
        users = self.referencing_components(network)
        if not users:
            finalizers = [f for f in meta.get("finalizers") or () if f != FINALIZER]
            self.client.patch(
                NETWORK,
                meta["name"],
                {"metadata": {"finalizers": finalizers, "resourceVersion": meta["resourceVersion"]}},
                meta["namespace"],
                patch_type="merge",
            )
            self._forget(Request(str(meta["namespace"]), str(meta["name"])))
            log.info(
                "finalizer removed: no component refers to the network",
                network=meta["name"],
                namespace=meta["namespace"],
            )
            return Result()
        stored_status: Mapping[str, Any] = network.get("status") or {}
        conditions = ConditionSet(
            stored_status.get("conditions"), observed_generation=meta.get("generation"), now=self.now
        )
        shown = ", ".join(users[:20]) + (f" and {len(users) - 20} more" if len(users) > 20 else "")
        conditions.set(
            Condition(
                CONDITION_READY,
                FALSE,
                REASON_DELETION_BLOCKED,
                f"deletion waits for {len(users)} component(s) that refer to this network: {shown}; "
                f"delete them or point their spec.optimismNetworkRef at another network",
            )
        )
        desired = {**thaw(stored_status), "phase": "Terminating", "conditions": conditions.to_list()}
        if _prune(desired) != _prune(thaw(stored_status)):
            self._write_status(network, desired)
            ready = conditions.get(CONDITION_READY)
            if ready is not None and conditions.changed(CONDITION_READY):
                self.recorder.event(network, WARNING, REASON_DELETION_BLOCKED, str(ready["message"]))
        return Result()  # the component watches bring the network back when a component goes

    def _forget(self, request: Request) -> None:
        with self._lock:
            self._l1.pop(network_key(request.namespace, request.name), None)
            self._written.pop(network_key(request.namespace, request.name), None)


def _fix_hint(err: EndpointError, field_name: str) -> str:
    if err.kind in ("Unreachable", "Timeout"):
        return f"; check {field_name} and that the endpoint is up and reachable from the operator"
    if err.kind == "BadResponse":
        api = "beacon API" if err.endpoint == "Beacon" else "JSON-RPC"
        return f"; check that {field_name} points at an Ethereum {api} endpoint"
    return ""


def _labels(network: str, component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": "optimismnetwork",
        "app.kubernetes.io/instance": network,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": network,
        "app.kubernetes.io/managed-by": "opstack-operator",
    }


def _owner_ref(network: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": NETWORK.api_version,
        "kind": NETWORK.kind,
        "name": network["metadata"]["name"],
        "uid": network["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _prune(value: Any) -> Any:
    """Drop None values and empty dicts, so that a stored status and a computed one compare equal."""
    if isinstance(value, Mapping):
        out = {k: _prune(v) for k, v in value.items() if v is not None}
        return {k: v for k, v in out.items() if v != {}}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


# --- wiring ------------------------------------------------------------------------------------------------


def _deletion_or_finalizers_changed() -> Predicate:
    def update(event: UpdateEvent) -> bool:
        old, new = event.object_old.get("metadata") or {}, event.object_new.get("metadata") or {}
        return bool(old.get("deletionTimestamp")) != bool(new.get("deletionTimestamp")) or list(
            old.get("finalizers") or ()
        ) != list(new.get("finalizers") or ())

    return Funcs(update=update)


def _network_ref_changed() -> Predicate:
    """Component events that matter to a network: a component appears, goes, or changes its reference."""

    def update(event: UpdateEvent) -> bool:
        return network_ref(event.object_old) != network_ref(event.object_new)

    def create(event: CreateEvent) -> bool:
        return network_ref(event.object) is not None

    def delete(event: DeleteEvent) -> bool:
        return network_ref(event.object) is not None

    return Funcs(create=create, update=update, delete=delete)


def register_indexes(cache: Any) -> None:
    """The network's own indexes (referenced ConfigMaps and Secrets) and the shared component index."""
    informer = cache.informer_for(NETWORK)
    for name, fn in ((CONFIG_MAP_REFS_INDEX, index_config_map_refs), (SECRET_REFS_INDEX, index_secret_refs)):
        if name not in informer.indexer.index_names():
            informer.add_indexer(name, fn)
    register_network_ref_index(cache)


def setup(mgr: Any, settings: Settings | None = None, *, max_concurrent_reconciles: int = 2) -> Controller:
    """Wire the OptimismNetwork controller into `mgr`; returns the controller (its reconciler is
    `controller.reconciler`)."""
    reconciler = OptimismNetworkReconciler(
        mgr.client, mgr.cache, mgr.event_recorder(CONTROLLER_NAME), settings
    )
    register_indexes(mgr.cache)
    builder = (
        ControllerBuilder(mgr)
        .named(CONTROLLER_NAME)
        # Status writes do not bump the generation, so the controller does not wake itself up; deletion and
        # finalizer changes do not always bump it either, hence the second predicate.
        .for_(NETWORK, predicates=[Or(GenerationChangedPredicate(), _deletion_or_finalizers_changed())])
        .owns(CONFIG_MAP)
        .watches(CONFIG_MAP, EnqueueRequestsFromMapFunc(reconciler.networks_for_config_map))
        .watches(SECRET, EnqueueRequestsFromMapFunc(reconciler.networks_for_secret))
        .with_options(max_concurrent_reconciles=max_concurrent_reconciles)
    )
    for gvk in COMPONENT_KINDS:
        builder.watches(
            gvk,
            EnqueueRequestsFromMapFunc(reconciler.network_of_component),
            predicates=[_network_ref_changed()],
        )
    return builder.complete(reconciler)
