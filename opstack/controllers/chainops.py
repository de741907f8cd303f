"""What the OpBatcher, OpProposer and OpChallenger controllers share: one reconciler for the components that
sign L1 transactions, parameterised by a `ComponentKind` (what differs: the spec model, the workload kind,
how the workload is rendered, what status says the component is wired to).

One reconcile, in order:
1. The spec is validated (pydantic); an object the schema let through but the model refuses is
   ConfigurationValid=False, nothing else is done.
2. NetworkReady: the OptimismNetwork exists and is Ready (configuration valid, L1 answers, contracts
   discovered), and what the component needs of it is published. Until then the component waits.
3. SequencerReady: `spec.sequencerRef` names an OpNode of the same network whose nodeType is sequencer and
   whose Ready condition is True; its Service URLs (`components.node_urls`, from its spec's ports) go into
   the workload's arguments, so a change of the sequencer's ports changes the config hash and rolls the pods.
4. SignerReady: the key Secret exists, holds the key, and the key has the format the binary accepts; the
   address is derived (status shows it). A remote signer's address is the spec's; its TLS Secret must
   exist. No two signing components of one network may use one address: the oldest (creationTimestamp,
   then kind and name) keeps it, every later one is refused (reason DuplicateSigner) and its workload is
   deleted (a restart of its pods would otherwise run a second instance of the signer).
5. SignerFunded: the L1 balance of the address is read every `Settings.balance_interval` (through
   `opstack.chain`); below `spec.signerBalanceThreshold` it is False with a Warning Event. The metric
   `opstack_signer_balance_wei{component,namespace,name,address}` carries the last read. Not part of Ready:
   a low balance is a warning before the chain stalls, not a failure (phase Degraded).
6. ConfigurationValid: rendering (components/, resources/) refused nothing.
7. The workload and its Service are applied (server-side apply, one field manager per controller) only
   when they differ from the cached ones. A workload is created only once network and sequencer are
   Ready; an existing one is kept up to date even while a dependency is briefly not Ready.
8. WorkloadReady from the workload's status (rolled out, its pod Ready); Ready summarises 2, 3, 4, 6, 7.

Invariants:
- The private key never leaves this module's memory: it is parsed to derive the address and dropped; what
  is remembered (`_addresses`) is the address, keyed by the Secret's uid and resourceVersion. Conditions,
  Events, status and logs name the Secret and key, never the value; `KeyFormatError` messages never hold it.
- A reconcile that finds everything in desired state writes nothing: children are compared with the cache
  (a subset comparison, and a memo of the last apply's resourceVersion), status is compared with the stored
  status, Events are emitted on condition changes only. `status.lastBalanceCheck` is refreshed when status
  is written for another reason (e.g. the balance moved) or when the stored one is older than
  `Settings.balance_status_max_age`: at most one small write per component that often while nothing else
  happens.
- Ethereum is reached only through `opstack.chain` (`L1Client.balance`, every call with a timeout).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import structlog
from prometheus_client import Gauge
from pydantic import ValidationError

from opstack.api.v1alpha1 import (
    CONDITION_CONFIGURATION_VALID,
    CONDITION_NETWORK_READY,
    CONDITION_READY,
    CONDITION_SEQUENCER_READY,
    CONDITION_SIGNER_FUNDED,
    CONDITION_SIGNER_READY,
    CONDITION_WORKLOAD_READY,
    OP_BATCHER,
    OP_CHALLENGER,
    OP_NODE,
    OP_PROPOSER,
    OPTIMISM_NETWORK,
    OpNodeSpec,
    OptimismNetworkSpec,
    OptimismNetworkStatus,
    SigningComponentSpec,
)
from opstack.api.v1alpha1.registry import KindInfo
from opstack.chain.l1 import EndpointError, L1Client, redact_url
from opstack.components.common import (
    ComponentConfigError,
    NetworkFacts,
    NetworkNotReadyError,
    SecretRef,
    resolve_network,
)
from opstack.components.keys import KeyFormatError, address_of, parse_signing_key
from opstack.components.opnode import node_urls
from opstack.controllers.apply import ChildApplier, ChildRejected
from opstack.controllers.conditions import (
    FALSE,
    TRUE,
    UNKNOWN,
    Clock,
    Condition,
    ConditionSet,
    find,
    parse_rfc3339,
    rfc3339,
    summarize,
    utcnow,
)
from opstack.controllers.durations import parse_duration
from opstack.controllers.indexes import (
    NETWORK_REF_INDEX,
    network_key,
    network_ref,
    register_network_ref_index,
)
from opstack.resources.config import SecretValueError, decode_secret_data, secret_value
from opstack.resources.meta import Owner, canonical_json, controlled_by
from opstack.runtime import errors
from opstack.runtime.builder import ControllerBuilder
from opstack.runtime.controller import Controller
from opstack.runtime.events import NORMAL, WARNING, EventRecorder
from opstack.runtime.frozen import thaw
from opstack.runtime.gvk import GVK
from opstack.runtime.handler import EnqueueRequestsFromMapFunc, UpdateEvent
from opstack.runtime.metrics import REGISTRY
from opstack.runtime.predicate import Funcs, GenerationChangedPredicate, Predicate
from opstack.runtime.reconcile import Request, Result

log = structlog.get_logger("opstack.controllers.chainops")

NETWORK: Final = OPTIMISM_NETWORK.gvk
OPNODE: Final = OP_NODE.gvk
SECRET: Final = GVK("", "v1", "Secret")
CONFIG_MAP: Final = GVK("", "v1", "ConfigMap")
SERVICE: Final = GVK("", "v1", "Service")
DEPLOYMENT: Final = GVK("apps", "v1", "Deployment")
STATEFULSET: Final = GVK("apps", "v1", "StatefulSet")
SIGNING_KINDS: Final = (OP_BATCHER.gvk, OP_PROPOSER.gvk, OP_CHALLENGER.gvk)

# Indexes on the signing kinds, values "<namespace>/<name>".
SEQUENCER_REF_INDEX: Final = "spec.sequencerRef"  # the sequencer OpNode a component reads from
SIGNER_SECRETS_INDEX: Final = "signer.secrets"  # the key Secret and the remote signer's TLS Secret

WEI_PER: Final = {"wei": 1, "gwei": 10**9, "eth": 10**18}

SIGNER_BALANCE: Final = Gauge(
    "opstack_signer_balance_wei",
    "L1 balance of a signing component's signer address, in wei, as last read by the operator",
    ["component", "namespace", "name", "address"],
    registry=REGISTRY,
)

# Reasons that mean "waiting for something that is on its way", not "the user must fix something".
WAITING_REASONS: Final = frozenset(
    {
        "WaitingForNetwork",
        "NetworkNotReady",
        "WaitingForContracts",
        "SequencerNotReady",
        "WaitingForDependencies",
        "Progressing",
        "WaitingForSigner",
    }
)


@dataclass(frozen=True)
class Settings:
    """Timing of the signing-component controllers; tests shorten these."""

    balance_interval: float = 60.0  # the signer's L1 balance is read this often
    balance_retry: float = 10.0  # after a failed read
    balance_status_max_age: float = 600.0  # refresh status.lastBalanceCheck at least this often (0: never)


# --- pure helpers ------------------------------------------------------------------------------------------


def parse_ether_amount(text: str) -> int:
    """Wei in an amount like "1eth", "0.5eth", "500000gwei", "10wei" (the API's EtherAmount pattern)."""
    value = text.strip().lower()
    for unit in ("gwei", "wei", "eth"):
        if value.endswith(unit):
            number = value[: -len(unit)]
            break
    else:
        raise ValueError(f"{text!r} is not an amount; write it like 1eth, 0.5eth or 500000gwei")
    try:
        amount = Decimal(number) * WEI_PER[unit]
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount; write it like 1eth, 0.5eth or 500000gwei") from None
    if amount < 0:
        raise ValueError(f"{text!r} is negative")
    return int(amount)


def format_ether(wei: int) -> str:
    """A readable amount: 1500000000000000000 -> "1.5 ETH"."""
    text = format((Decimal(wei) / 10**18).normalize(), "f")
    return f"{text} ETH"


def ref_key(obj: Mapping[str, Any], field_name: str) -> tuple[str, str] | None:
    """(namespace, name) of `spec.<field_name>` (an ObjectRef; namespace defaults to the object's)."""
    spec = obj.get("spec")
    ref = spec.get(field_name) if isinstance(spec, Mapping) else None
    if not isinstance(ref, Mapping) or not isinstance(ref.get("name"), str) or not ref["name"]:
        return None
    meta = obj.get("metadata")
    own = meta.get("namespace") if isinstance(meta, Mapping) else None
    return str(ref.get("namespace") or own or ""), str(ref["name"])


def index_sequencer_ref(obj: Mapping[str, Any]) -> list[str]:
    ref = ref_key(obj, "sequencerRef")
    return [network_key(*ref)] if ref is not None else []


def signer_secret_names(obj: Mapping[str, Any]) -> list[str]:
    """Names of the Secrets a signing component reads: the key Secret, the remote signer's TLS Secret."""
    spec = obj.get("spec")
    if not isinstance(spec, Mapping):
        return []
    names: list[str] = []
    pk = spec.get("privateKey")
    ref = pk.get("secretRef") if isinstance(pk, Mapping) else None
    if isinstance(ref, Mapping) and isinstance(ref.get("name"), str):
        names.append(ref["name"])
    rs = spec.get("remoteSigner")
    tls = rs.get("tls") if isinstance(rs, Mapping) else None
    if isinstance(tls, Mapping) and isinstance(tls.get("secretName"), str):
        names.append(tls["secretName"])
    return names


def index_signer_secrets(obj: Mapping[str, Any]) -> list[str]:
    meta = obj.get("metadata")
    namespace = str(meta.get("namespace") or "") if isinstance(meta, Mapping) else ""
    return sorted({network_key(namespace, n) for n in signer_secret_names(obj)})


def workload_condition(obj: Mapping[str, Any] | None) -> Condition:
    """WorkloadReady from a Deployment's or StatefulSet's status: the current generation rolled out to every
    replica and every replica Ready."""
    if obj is None:
        return Condition(CONDITION_WORKLOAD_READY, FALSE, "WaitingForDependencies", "no workload yet")
    kind = str(obj.get("kind") or "Deployment")
    meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    name = f"{kind} {meta.get('name')}"
    want = int(spec.get("replicas", 1))
    if int(status.get("observedGeneration") or 0) < int(meta.get("generation") or 0):
        return Condition(
            CONDITION_WORKLOAD_READY,
            FALSE,
            "Progressing",
            f"{name}: the new configuration is being rolled out",
        )
    updated = int(status.get("updatedReplicas") or 0)
    ready = int(status.get("readyReplicas") or 0)
    total = int(status.get("replicas") or 0)
    if kind == "StatefulSet" and status.get("updateRevision") != status.get("currentRevision") and want:
        rolled = False
    else:
        rolled = updated >= want and total <= want
    if want == 0:
        return Condition(CONDITION_WORKLOAD_READY, FALSE, "ScaledDown", f"{name} has no replicas")
    if not rolled:
        return Condition(
            CONDITION_WORKLOAD_READY,
            FALSE,
            "Progressing",
            f"{name}: {updated}/{want} pods run the current configuration",
        )
    if ready < want:
        return Condition(
            CONDITION_WORKLOAD_READY, FALSE, "Progressing", f"{name}: {ready}/{want} pods are Ready"
        )
    return Condition(CONDITION_WORKLOAD_READY, TRUE, "Ready", f"{name}: {ready}/{want} pods are Ready")


READY_INPUTS: Final = (
    CONDITION_CONFIGURATION_VALID,
    CONDITION_NETWORK_READY,
    CONDITION_SEQUENCER_READY,
    CONDITION_SIGNER_READY,
    CONDITION_WORKLOAD_READY,
)


def phase_of(conditions: ConditionSet) -> str:
    """Running (Ready), Degraded (Ready but the signer runs low), Pending (waiting), Error (a user fix)."""
    if conditions.status(CONDITION_READY) == TRUE:
        return "Degraded" if conditions.status(CONDITION_SIGNER_FUNDED) == FALSE else "Running"
    for type_ in READY_INPUTS:
        cond = conditions.get(type_)
        if cond is not None and cond.get("status") == FALSE and cond.get("reason") not in WAITING_REASONS:
            return "Error"
    return "Pending"


def prune(value: Any) -> Any:
    """Drop None values and empty dicts, so that a stored status and a computed one compare equal."""
    if isinstance(value, Mapping):
        out = {k: prune(v) for k, v in value.items() if v is not None}
        return {k: v for k, v in out.items() if v != {}}
    if isinstance(value, list):
        return [prune(v) for v in value]
    return value


# --- what a kind contributes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoints:
    """The L2 execution and rollup RPC URLs a component reads (the sequencer's Service, or external)."""

    l2_rpc: str
    rollup_rpc: str


@dataclass(frozen=True)
class Inputs:
    """Everything a kind's renderer needs besides the spec."""

    owner: Owner
    network: NetworkFacts
    network_status: OptimismNetworkStatus | None
    endpoints: Endpoints
    referenced: Mapping[str, str]
    live_workload: Mapping[str, Any] | None


@dataclass(frozen=True)
class Rendered:
    workload: dict[str, Any]
    service: dict[str, Any]
    info: dict[str, Any]  # status.<kind>Info


@dataclass(frozen=True)
class ComponentKind:
    """What differs between OpBatcher, OpProposer and OpChallenger."""

    info: KindInfo
    role: str  # batcher / proposer / challenger (the metric's `component` label)
    spec_model: type[SigningComponentSpec]
    workload: GVK
    status_info_field: str  # batcherInfo / proposerInfo / challengerInfo
    render: Callable[[Any, Inputs], Rendered]
    # Whether the spec uses spec.sequencerRef (the challenger may use external URLs instead).
    external_endpoints: Callable[[Any], Endpoints | None] = lambda _spec: None
    # ConfigMaps of the network the pods mount (the challenger's rollup config and genesis).
    mounts_network_config: bool = False

    @property
    def gvk(self) -> GVK:
        return self.info.gvk

    @property
    def controller_name(self) -> str:
        return self.info.kind.lower()

    @property
    def field_manager(self) -> str:
        return f"opstack-{self.controller_name}"


def discovered(inputs: Inputs) -> Any:
    """The network's discovered contracts (a DiscoveredContracts model), or None."""
    status = inputs.network_status
    info = status.network_info if status is not None else None
    return info.discovered_contracts if info is not None else None


# --- memory of one controller ------------------------------------------------------------------------------


@dataclass
class BalanceRecord:
    """The last balance read of one component's signer (in memory: after a restart it is read again)."""

    uid: str
    address: str
    checked_mono: float
    checked_at: datetime
    wei: int | None = None
    error: EndpointError | None = None


@dataclass(frozen=True)
class SignerFound:
    """The signer of a component, or why there is none."""

    address: str | None
    problem: Condition | None = None
    referenced: Mapping[str, str] = field(default_factory=dict)


class _Lru:
    """A small bounded map (addresses by Secret version; apply memos)."""

    def __init__(self, size: int = 4096) -> None:
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
            return None

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._size:
                self._data.popitem(last=False)


# --- the reconciler ----------------------------------------------------------------------------------------


class SigningComponentReconciler:
    """Reconciles one signing kind (see the module docstring)."""

    def __init__(
        self,
        kind: ComponentKind,
        client: Any,
        cache: Any,
        recorder: EventRecorder,
        settings: Settings | None = None,
        *,
        now: Clock = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.kind = kind
        self.client = client
        self.cache = cache
        self.recorder = recorder
        self.settings = settings or Settings()
        self.now = now
        self.monotonic = monotonic
        self._balances: dict[tuple[str, str], BalanceRecord] = {}
        self._l1_clients: dict[tuple[str, float], L1Client] = {}
        self._addresses = _Lru()  # (secret uid, resourceVersion, key) -> address | KeyFormatError message
        self._applier = ChildApplier(client, kind.field_manager)
        self._lock = threading.Lock()

    # -- mapping functions for watches

    def for_network(self, obj: Mapping[str, Any]) -> list[Request]:
        meta = obj.get("metadata") or {}
        key = network_key(str(meta.get("namespace") or ""), str(meta.get("name") or ""))
        return [Request.for_object(o) for o in self.cache.list(self.kind.gvk, index=(NETWORK_REF_INDEX, key))]

    def for_sequencer(self, obj: Mapping[str, Any]) -> list[Request]:
        meta = obj.get("metadata") or {}
        key = network_key(str(meta.get("namespace") or ""), str(meta.get("name") or ""))
        return [
            Request.for_object(o) for o in self.cache.list(self.kind.gvk, index=(SEQUENCER_REF_INDEX, key))
        ]

    def for_signing_component(self, obj: Mapping[str, Any]) -> list[Request]:
        """A signing component of any kind changed: every component of this kind in its network (one of them
        may now hold, or no longer hold, a duplicate address)."""
        ref = network_ref(obj)
        if ref is None:
            return []
        key = network_key(*ref)
        return [Request.for_object(o) for o in self.cache.list(self.kind.gvk, index=(NETWORK_REF_INDEX, key))]

    def for_secret(self, obj: Mapping[str, Any]) -> list[Request]:
        meta = obj.get("metadata") or {}
        key = network_key(str(meta.get("namespace") or ""), str(meta.get("name") or ""))
        out: dict[Request, None] = {}
        for gvk in SIGNING_KINDS:
            for user in self.cache.list(gvk, index=(SIGNER_SECRETS_INDEX, key)):
                for req in self.for_signing_component(user):
                    out[req] = None
        return list(out)

    def for_config_map(self, obj: Mapping[str, Any]) -> list[Request]:
        """Components of this kind whose pods mount the ConfigMap (their network's rollup config/genesis)."""
        meta = obj.get("metadata") or {}
        namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        out: list[Request] = []
        for component in self.cache.list(self.kind.gvk, namespace):
            ref = network_ref(component)
            if ref is None:
                continue
            try:
                net = self.cache.get(NETWORK, ref[1], ref[0])
            except errors.NotFound:
                continue
            if name in _network_config_maps(net):
                out.append(Request.for_object(component))
        return out

    # -- reconcile

    def reconcile(self, request: Request) -> Result:
        try:
            obj = self.cache.get(self.kind.gvk, request.name, request.namespace)
        except errors.NotFound:
            self._forget(request)
            return Result()
        if obj["metadata"].get("deletionTimestamp"):
            return Result()  # children go with it (owner references); nothing to release
        try:
            return self._reconcile(obj)
        except errors.Conflict:
            # Our cached object (or a child) was stale; the watch brings the new version and a retry.
            return Result(requeue=True)

    def _reconcile(self, obj: Mapping[str, Any]) -> Result:
        meta = obj["metadata"]
        namespace, name = str(meta["namespace"]), str(meta["name"])
        stored: Mapping[str, Any] = obj.get("status") or {}
        conditions = ConditionSet(
            stored.get("conditions"), observed_generation=meta.get("generation"), now=self.now
        )
        try:
            spec = self.kind.spec_model.model_validate(obj.get("spec") or {})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = "spec." + ".".join(str(p) for p in first.get("loc", ()))
            conditions.set(
                Condition(
                    CONDITION_CONFIGURATION_VALID,
                    FALSE,
                    "SpecInvalid",
                    f"{where}: {first.get('msg')}; correct the field "
                    f"(kubectl explain {self.kind.controller_name}.{where})",
                )
            )
            self._finish(obj, conditions, None, {}, None)
            return Result()

        owner = Owner.of(obj)
        network = self._network(obj, spec, conditions)
        endpoints = self._endpoints(obj, spec, conditions)
        signer = self._signer(obj, spec, conditions)
        facts: NetworkFacts | None = None
        net_status: OptimismNetworkStatus | None = None
        if network is not None:
            facts, net_status = self._facts(network, conditions)

        record = self._balance(obj, spec, signer.address, facts, conditions)

        live = self._cached(self.kind.workload, name, namespace)
        rendered: Rendered | None = None
        render_error: str | None = None
        if facts is not None and endpoints is not None and signer.problem is None:
            referenced = dict(signer.referenced)
            missing = (
                self._network_config(namespace, facts, referenced)
                if self.kind.mounts_network_config
                else None
            )
            if missing is not None:
                conditions.set(missing)
            else:
                inputs = Inputs(owner, facts, net_status, endpoints, referenced, live)
                try:
                    rendered = self.kind.render(spec, inputs)
                except NetworkNotReadyError as exc:
                    conditions.set(Condition(CONDITION_NETWORK_READY, FALSE, "WaitingForContracts", str(exc)))
                except ComponentConfigError as exc:
                    render_error = str(exc)
        if rendered is not None:
            conditions.set(
                Condition(CONDITION_CONFIGURATION_VALID, TRUE, "Valid", "the workload renders from the spec")
            )
        elif render_error is not None:
            conditions.set(
                Condition(CONDITION_CONFIGURATION_VALID, FALSE, "InvalidConfiguration", render_error)
            )
        else:
            conditions.set(
                Condition(
                    CONDITION_CONFIGURATION_VALID,
                    UNKNOWN,
                    "WaitingForDependencies",
                    "the workload is rendered once the network, the sequencer and the signer are known",
                )
            )

        live, conflict = self._sync_children(owner, rendered, live, conditions)
        conditions.set(conflict or self._workload_condition(live, conditions))
        conditions.set(
            summarize(
                conditions.to_list(),
                READY_INPUTS,
                f"{self.kind.info.kind} runs with signer {signer.address}",
            )
        )
        info = rendered.info if rendered is not None else thaw(stored.get(self.kind.status_info_field) or {})
        self._finish(obj, conditions, signer.address, info, record)
        return self._requeue(record, signer.address)

    # -- dependencies

    def _network(
        self, obj: Mapping[str, Any], spec: SigningComponentSpec, conditions: ConditionSet
    ) -> Mapping[str, Any] | None:
        ref = network_ref(obj)
        assert ref is not None  # the schema requires spec.optimismNetworkRef
        network = self._cached(NETWORK, ref[1], ref[0])
        if network is None:
            conditions.set(
                Condition(
                    CONDITION_NETWORK_READY,
                    FALSE,
                    "WaitingForNetwork",
                    f"spec.optimismNetworkRef: OptimismNetwork {ref[0]}/{ref[1]} does not exist; create it "
                    "or correct spec.optimismNetworkRef",
                )
            )
            return None
        ready = find((network.get("status") or {}).get("conditions"), CONDITION_READY)
        if ready is None or ready.get("status") != TRUE:
            why = f"{ready.get('reason')}: {ready.get('message')}" if ready is not None else "not yet checked"
            conditions.set(
                Condition(
                    CONDITION_NETWORK_READY,
                    FALSE,
                    "NetworkNotReady",
                    f"waiting for OptimismNetwork {ref[1]} to be Ready ({why})",
                )
            )
        else:
            conditions.set(
                Condition(
                    CONDITION_NETWORK_READY,
                    TRUE,
                    "NetworkReady",
                    f"OptimismNetwork {ref[1]} is Ready (L1 answers, contracts discovered)",
                )
            )
        return network

    def _facts(
        self, network: Mapping[str, Any], conditions: ConditionSet
    ) -> tuple[NetworkFacts | None, OptimismNetworkStatus | None]:
        name = str(network["metadata"]["name"])
        try:
            spec = OptimismNetworkSpec.model_validate(network.get("spec") or {})
            status = OptimismNetworkStatus.model_validate(network.get("status") or {})
        except ValidationError:
            conditions.set(
                Condition(
                    CONDITION_NETWORK_READY,
                    FALSE,
                    "NetworkNotReady",
                    f"OptimismNetwork {name} has an invalid spec; see its ConfigurationValid condition",
                )
            )
            return None, None
        try:
            return resolve_network(name, spec, status), status
        except NetworkNotReadyError as exc:
            conditions.set(Condition(CONDITION_NETWORK_READY, FALSE, "NetworkNotReady", f"waiting: {exc}"))
        except ComponentConfigError as exc:
            conditions.set(Condition(CONDITION_NETWORK_READY, FALSE, "NetworkInvalid", str(exc)))
        return None, None

    def _endpoints(
        self,
        obj: Mapping[str, Any],
        spec: SigningComponentSpec,
        conditions: ConditionSet,
    ) -> Endpoints | None:
        external = self.kind.external_endpoints(spec)
        if external is not None:
            conditions.set(
                Condition(
                    CONDITION_SEQUENCER_READY,
                    TRUE,
                    "ExternalEndpoints",
                    f"spec.l2RpcUrl and spec.rollupRpcUrl are used ({redact_url(external.l2_rpc)}, "
                    f"{redact_url(external.rollup_rpc)})",
                )
            )
            return external
        ref = ref_key(obj, "sequencerRef")
        assert ref is not None  # the schema requires one of sequencerRef or the external URLs
        namespace, name = ref
        try:
            node = self.cache.get(OPNODE, name, namespace)
        except errors.NotFound:
            conditions.set(
                Condition(
                    CONDITION_SEQUENCER_READY,
                    FALSE,
                    "SequencerNotFound",
                    f"spec.sequencerRef: OpNode {namespace}/{name} does not exist; create it, or point "
                    "spec.sequencerRef at the network's sequencer OpNode",
                )
            )
            return None
        node_spec = node.get("spec") or {}
        if node_spec.get("nodeType") != "sequencer":
            conditions.set(
                Condition(
                    CONDITION_SEQUENCER_READY,
                    FALSE,
                    "NotASequencer",
                    f"spec.sequencerRef: OpNode {namespace}/{name} is a {node_spec.get('nodeType')}, not a "
                    "sequencer; point spec.sequencerRef at the network's OpNode with nodeType: sequencer",
                )
            )
            return None
        own_net, node_net = network_ref(obj), network_ref(node)
        if own_net != node_net:
            conditions.set(
                Condition(
                    CONDITION_SEQUENCER_READY,
                    FALSE,
                    "SequencerOfAnotherNetwork",
                    f"spec.sequencerRef: OpNode {namespace}/{name} belongs to OptimismNetwork "
                    f"{node_net[1] if node_net else '?'}, not {own_net[1] if own_net else '?'}; point "
                    "spec.sequencerRef at this network's sequencer",
                )
            )
            return None
        try:
            parsed = OpNodeSpec.model_validate(node_spec)
        except ValidationError:
            conditions.set(
                Condition(
                    CONDITION_SEQUENCER_READY,
                    FALSE,
                    "SequencerNotReady",
                    f"OpNode {name} has an invalid spec; see its conditions",
                )
            )
            return None
        urls = node_urls(name, namespace, parsed)
        ready = find((node.get("status") or {}).get("conditions"), CONDITION_READY)
        if ready is None or ready.get("status") != TRUE:
            why = f"{ready.get('reason')}: {ready.get('message')}" if ready is not None else "not yet checked"
            conditions.set(
                Condition(
                    CONDITION_SEQUENCER_READY,
                    FALSE,
                    "SequencerNotReady",
                    f"waiting for the sequencer OpNode {name} to be Ready ({why})",
                )
            )
        else:
            conditions.set(
                Condition(
                    CONDITION_SEQUENCER_READY,
                    TRUE,
                    "SequencerReady",
                    f"OpNode {name} is Ready ({urls.geth_http}, {urls.op_node_rpc})",
                )
            )
        return Endpoints(urls.geth_http, urls.op_node_rpc)

    # -- the signer

    def _signer(
        self, obj: Mapping[str, Any], spec: SigningComponentSpec, conditions: ConditionSet
    ) -> SignerFound:
        namespace = str(obj["metadata"]["namespace"])
        found = self._signer_of(namespace, spec)
        if found.problem is not None:
            conditions.set(found.problem)
            return found
        assert found.address is not None
        holder = self._first_holder(obj, found.address)
        if holder is not None:
            duplicate = conditions.set(
                Condition(
                    CONDITION_SIGNER_READY,
                    FALSE,
                    "DuplicateSigner",
                    f"signer address {found.address} is already used by {holder} of the same network; two "
                    "instances of one signer fight over nonces: give this component its own key "
                    "(spec.privateKey) or remote signer address",
                )
            )
            return SignerFound(found.address, duplicate, found.referenced)
        how = "remote signer" if spec.remote_signer is not None else "key from spec.privateKey"
        conditions.set(
            Condition(CONDITION_SIGNER_READY, TRUE, "SignerValid", f"signs as {found.address} ({how})")
        )
        return found

    def _signer_of(self, namespace: str, spec: SigningComponentSpec) -> SignerFound:
        """The address a component signs as, from its spec (remote signer) or its key Secret."""
        if spec.remote_signer is not None:
            rs = spec.remote_signer
            referenced: dict[str, str] = {}
            if rs.tls.enabled and rs.tls.secret_name is not None:
                tls = self._cached(SECRET, rs.tls.secret_name, namespace)
                if tls is None:
                    return SignerFound(
                        rs.address,
                        Condition(
                            CONDITION_SIGNER_READY,
                            FALSE,
                            "TlsSecretNotFound",
                            f"spec.remoteSigner.tls.secretName: Secret {namespace}/{rs.tls.secret_name} does "
                            "not exist; create it (kubernetes.io/tls with ca.crt, tls.crt, tls.key)",
                        ),
                    )
                referenced[f"Secret/{rs.tls.secret_name}"] = str(tls["metadata"].get("resourceVersion"))
            return SignerFound(_checksum(rs.address), None, referenced)
        assert spec.private_key is not None  # the schema requires exactly one of the two
        ref = spec.private_key.secret_ref
        where = "spec.privateKey.secretRef"
        secret = self._cached(SECRET, ref.name, namespace)
        if secret is None:
            return SignerFound(
                None,
                Condition(
                    CONDITION_SIGNER_READY,
                    FALSE,
                    "KeySecretNotFound",
                    f"{where}: Secret {namespace}/{ref.name} does not exist; create it with key {ref.key!r} "
                    f"holding the signing key (kubectl create secret generic {ref.name} "
                    f"--from-literal={ref.key}=0x...)",
                ),
            )
        data = secret.get("data") or {}
        if ref.key not in data:
            keys = ", ".join(sorted(data)) or "none"
            return SignerFound(
                None,
                Condition(
                    CONDITION_SIGNER_READY,
                    FALSE,
                    "KeyMissing",
                    f"{where}: Secret {namespace}/{ref.name} has no key {ref.key!r} (its keys: {keys}); add "
                    f"the signing key under {ref.key!r} or correct {where}.key",
                ),
            )
        memo_key = (secret["metadata"].get("uid"), secret["metadata"].get("resourceVersion"), ref.key)
        known = self._addresses.get(memo_key)
        if known is None:
            known = _derive_address(data[ref.key])
            self._addresses.put(memo_key, known)
        kind, value = known
        if kind == "error":
            return SignerFound(
                None,
                Condition(
                    CONDITION_SIGNER_READY,
                    FALSE,
                    "KeyMalformed",
                    f"{where}: key {ref.key!r} of Secret {namespace}/{ref.name}: {value}",
                ),
            )
        # The pods read the key at start: a new key (not any Secret change) rolls them.
        return SignerFound(value, None, {f"Secret/{ref.name}": value})

    def _address_of_component(self, obj: Mapping[str, Any]) -> str | None:
        """The signer address of another signing component (None when it has no valid signer)."""
        spec = obj.get("spec") or {}
        rs = spec.get("remoteSigner")
        if isinstance(rs, Mapping) and isinstance(rs.get("address"), str):
            return _checksum(rs["address"])
        pk = spec.get("privateKey")
        ref = pk.get("secretRef") if isinstance(pk, Mapping) else None
        if not isinstance(ref, Mapping):
            return None
        secret = self._cached(SECRET, str(ref.get("name")), str(obj["metadata"].get("namespace") or ""))
        if secret is None:
            return None
        raw = (secret.get("data") or {}).get(ref.get("key"))
        if raw is None:
            return None
        memo_key = (secret["metadata"].get("uid"), secret["metadata"].get("resourceVersion"), ref.get("key"))
        known = self._addresses.get(memo_key)
        if known is None:
            known = _derive_address(raw)
            self._addresses.put(memo_key, known)
        return known[1] if known[0] == "address" else None

    def _first_holder(self, obj: Mapping[str, Any], address: str) -> str | None:
        """ "Kind ns/name" of an older signing component of the same network with the same address."""
        ref = network_ref(obj)
        if ref is None:
            return None
        key = network_key(*ref)
        mine = _age_key(obj)
        for gvk in SIGNING_KINDS:
            for other in self.cache.list(gvk, index=(NETWORK_REF_INDEX, key)):
                if other["metadata"].get("uid") == obj["metadata"].get("uid"):
                    continue
                if other["metadata"].get("deletionTimestamp"):
                    continue
                if _age_key(other) >= mine:
                    continue
                if self._address_of_component(other) == address:
                    m = other["metadata"]
                    return f"{other.get('kind', gvk.kind)} {m.get('namespace')}/{m['name']}"
        return None

    # -- the balance

    def _balance(
        self,
        obj: Mapping[str, Any],
        spec: SigningComponentSpec,
        address: str | None,
        facts: NetworkFacts | None,
        conditions: ConditionSet,
    ) -> BalanceRecord | None:
        meta = obj["metadata"]
        key = (str(meta["namespace"]), str(meta["name"]))
        if address is None:
            conditions.set(
                Condition(
                    CONDITION_SIGNER_FUNDED,
                    UNKNOWN,
                    "WaitingForSigner",
                    "the balance is read once the signer address is known (see SignerReady)",
                )
            )
            return None
        if facts is None:
            conditions.set(
                Condition(
                    CONDITION_SIGNER_FUNDED,
                    UNKNOWN,
                    "WaitingForNetwork",
                    "the balance is read from the network's L1 once the network is known (see NetworkReady)",
                )
            )
            return self._balances.get(key)
        threshold_text = str(getattr(spec, "signer_balance_threshold", "1eth"))
        threshold = parse_ether_amount(threshold_text)
        with self._lock:
            record = self._balances.get(key)
        now = self.monotonic()
        due = (
            record is None
            or record.uid != meta.get("uid")
            or record.address != address
            or now - record.checked_mono
            >= (self.settings.balance_retry if record.error is not None else self.settings.balance_interval)
        )
        if due:
            record = self._read_balance(obj, address, facts)
            with self._lock:
                old = self._balances.get(key)
                self._balances[key] = record
            if old is not None and old.address != address:
                _remove_series(self.kind.role, key[0], key[1], old.address)
            if record.wei is not None:
                SIGNER_BALANCE.labels(self.kind.role, key[0], key[1], address).set(record.wei)
        assert record is not None
        if record.error is not None:
            conditions.set(
                Condition(
                    CONDITION_SIGNER_FUNDED,
                    UNKNOWN,
                    record.error.reason,
                    f"the balance of {address} could not be read: {record.error}",
                )
            )
        elif record.wei is not None and record.wei < threshold:
            conditions.set(
                Condition(
                    CONDITION_SIGNER_FUNDED,
                    FALSE,
                    "BalanceLow",
                    f"signer {address} holds {format_ether(record.wei)}, below spec.signerBalanceThreshold "
                    f"{threshold_text}; send it ETH on L1 before it cannot pay for transactions",
                )
            )
        else:
            conditions.set(
                Condition(
                    CONDITION_SIGNER_FUNDED,
                    TRUE,
                    "BalanceSufficient",
                    f"signer {address} holds at least spec.signerBalanceThreshold {threshold_text}",
                )
            )
        return record

    def _read_balance(self, obj: Mapping[str, Any], address: str, facts: NetworkFacts) -> BalanceRecord:
        meta = obj["metadata"]
        mono, wall = self.monotonic(), self.now()
        record = BalanceRecord(str(meta.get("uid")), address, mono, wall)
        url = self._l1_url(str(meta["namespace"]), facts)
        if url is None:
            record.error = _NoUrl("L1", "eth_getBalance", "the network's L1 URL Secret cannot be read")
            return record
        timeout = 10.0
        try:
            network = self.cache.get(NETWORK, facts.name, str(meta["namespace"]))
            timeout = parse_duration(str((network.get("spec") or {}).get("l1RpcTimeout") or "10s")) or 10.0
        except (errors.NotFound, ValueError):
            pass
        client = self._l1_clients.get((url, timeout))
        if client is None:
            client = L1Client(url, timeout=timeout)
            self._l1_clients[(url, timeout)] = client
        try:
            record.wei = client.balance(address)
        except EndpointError as err:
            record.error = err
        return record

    def _l1_url(self, namespace: str, facts: NetworkFacts) -> str | None:
        if not isinstance(facts.l1_rpc, SecretRef):
            return facts.l1_rpc
        secret = self._cached(SECRET, facts.l1_rpc.name, namespace)
        try:
            value = secret_value(secret, facts.l1_rpc.key) if secret is not None else None
            return (value.decode().strip() or None) if value is not None else None
        except ValueError:  # not base64 (SecretValueError) or not UTF-8 (UnicodeDecodeError)
            return None

    # -- children

    def _network_config(
        self, namespace: str, facts: NetworkFacts, referenced: dict[str, str]
    ) -> Condition | None:
        """The network's rollup config and genesis ConfigMaps the pods mount must exist; their versions
        go into the config hash."""
        for ref in (facts.rollup_config, facts.genesis):
            if ref is None:
                continue
            cm = self._cached(CONFIG_MAP, ref.name, namespace)
            if cm is None or ref.key not in (cm.get("data") or {}):
                return Condition(
                    CONDITION_NETWORK_READY,
                    FALSE,
                    "NetworkNotReady",
                    f"waiting for ConfigMap {namespace}/{ref.name} with key {ref.key!r} of OptimismNetwork "
                    f"{facts.name}",
                )
            referenced[f"ConfigMap/{ref.name}"] = str(cm["metadata"].get("resourceVersion"))
        return None

    def _sync_children(
        self,
        owner: Owner,
        rendered: Rendered | None,
        live: Mapping[str, Any] | None,
        conditions: ConditionSet,
    ) -> tuple[Mapping[str, Any] | None, Condition | None]:
        """Apply the rendered children when they differ from the cache.
        Returns the workload as it is now and a name conflict, if any."""
        signer_cond = conditions.get(CONDITION_SIGNER_READY)
        if signer_cond is not None and signer_cond.get("reason") == "DuplicateSigner":
            if live is not None and controlled_by(live, owner):
                # Never two instances of one signer: the refused component's pods go.
                self.client.delete(
                    self.kind.workload,
                    str(live["metadata"]["name"]),
                    owner.namespace,
                    propagation_policy="Background",
                )
                log.info("workload deleted: its signer address is used by another component")
            return None, None
        if rendered is None:
            return live, None
        deps_ready = conditions.status(CONDITION_NETWORK_READY) == TRUE and (
            conditions.status(CONDITION_SEQUENCER_READY) == TRUE
        )
        if live is None and not deps_ready:
            return None, None  # created once the network and the sequencer are Ready
        if live is not None and not controlled_by(live, owner):
            return live, _name_conflict(self.kind.workload, live, owner)
        service_live = self._cached(SERVICE, str(rendered.service["metadata"]["name"]), owner.namespace)
        if service_live is not None and not controlled_by(service_live, owner):
            return live, _name_conflict(SERVICE, service_live, owner)
        try:
            applied = self._applier.apply(owner, rendered.workload, live)
            self._applier.apply(owner, rendered.service, service_live)
        except ChildRejected as exc:
            hint = "volume claims come from spec.storage.size, container resources from spec.resources"
            return live, Condition(CONDITION_WORKLOAD_READY, FALSE, exc.reason, f"{exc} ({hint})")
        return applied, None

    def _workload_condition(self, live: Mapping[str, Any] | None, conditions: ConditionSet) -> Condition:
        signer_cond = conditions.get(CONDITION_SIGNER_READY)
        if signer_cond is not None and signer_cond.get("reason") == "DuplicateSigner":
            return Condition(
                CONDITION_WORKLOAD_READY,
                FALSE,
                "SignerRefused",
                "no workload runs while the signer address is used by another component (see SignerReady)",
            )
        if live is None:
            waiting = [
                t
                for t in (CONDITION_NETWORK_READY, CONDITION_SEQUENCER_READY, CONDITION_SIGNER_READY)
                if conditions.status(t) != TRUE
            ]
            what = ", ".join(waiting) or CONDITION_CONFIGURATION_VALID
            return Condition(
                CONDITION_WORKLOAD_READY,
                FALSE,
                "WaitingForDependencies",
                f"the {self.kind.workload.kind} is created once these are True: {what}",
            )
        return workload_condition(live)

    # -- status, events, requeue

    def _finish(
        self,
        obj: Mapping[str, Any],
        conditions: ConditionSet,
        address: str | None,
        info: Mapping[str, Any],
        record: BalanceRecord | None,
    ) -> None:
        stored: Mapping[str, Any] = obj.get("status") or {}
        balance: str | None = None
        if record is not None and record.address == address and record.wei is not None:
            balance = str(record.wei)
        elif address is not None and address == stored.get("signerAddress"):
            balance = stored.get("signerBalanceWei")
        desired: dict[str, Any] = {
            "phase": phase_of(conditions),
            "observedGeneration": obj["metadata"].get("generation"),
            "conditions": conditions.to_list(),
            "signerAddress": address,
            "signerBalanceWei": balance,
            "lastBalanceCheck": stored.get("lastBalanceCheck") if balance is not None else None,
            self.kind.status_info_field: dict(info) or None,
        }
        fresh_check = (
            rfc3339(record.checked_at)
            if record is not None and record.address == address and record.wei is not None
            else None
        )
        refresh = (
            fresh_check is not None
            and fresh_check != stored.get("lastBalanceCheck")
            and self._stale_check(stored)
        )
        if prune(desired) == prune(thaw(stored)) and not refresh:
            return
        if fresh_check is not None:
            desired["lastBalanceCheck"] = fresh_check
        updated = thaw(obj)
        updated["status"] = prune(desired)
        self.client.update_status(updated, field_manager=self.kind.field_manager)
        self._events(obj, conditions)

    def _stale_check(self, stored: Mapping[str, Any]) -> bool:
        max_age = self.settings.balance_status_max_age
        if max_age <= 0:
            return False
        checked = parse_rfc3339(stored.get("lastBalanceCheck"))
        return checked is not None and (self.now() - checked).total_seconds() >= max_age

    def _events(self, obj: Mapping[str, Any], conditions: ConditionSet) -> None:
        for type_ in (
            CONDITION_CONFIGURATION_VALID,
            CONDITION_NETWORK_READY,
            CONDITION_SEQUENCER_READY,
            CONDITION_SIGNER_READY,
        ):
            cond = conditions.get(type_)
            if cond is not None and cond.get("status") == FALSE and conditions.changed(type_):
                if cond.get("reason") in WAITING_REASONS:
                    self.recorder.event(obj, NORMAL, str(cond["reason"]), str(cond["message"]))
                else:
                    self.recorder.event(obj, WARNING, str(cond["reason"]), str(cond["message"]))
        funded = conditions.get(CONDITION_SIGNER_FUNDED)
        if funded is not None and conditions.changed(CONDITION_SIGNER_FUNDED):
            if funded.get("status") == FALSE:
                self.recorder.event(obj, WARNING, "SignerBalanceLow", str(funded["message"]))
            elif (
                funded.get("status") == TRUE and conditions.previous_status(CONDITION_SIGNER_FUNDED) == FALSE
            ):
                self.recorder.event(obj, NORMAL, "SignerFunded", str(funded["message"]))
        if conditions.status(CONDITION_READY) == TRUE and conditions.flipped(CONDITION_READY):
            ready = conditions.get(CONDITION_READY)
            self.recorder.event(obj, NORMAL, "Ready", str(ready.get("message") if ready else "ready"))

    def _requeue(self, record: BalanceRecord | None, address: str | None) -> Result:
        if record is None or address is None:
            return Result()
        every = self.settings.balance_retry if record.error is not None else self.settings.balance_interval
        left = every - (self.monotonic() - record.checked_mono)
        return Result(requeue_after=max(left, 0.05))

    # -- small things

    def _cached(self, gvk: GVK, name: str, namespace: str) -> Mapping[str, Any] | None:
        try:
            obj: Mapping[str, Any] = self.cache.get(gvk, name, namespace)
            return obj
        except errors.NotFound:
            return None

    def _forget(self, request: Request) -> None:
        with self._lock:
            record = self._balances.pop((request.namespace, request.name), None)
        if record is not None:
            _remove_series(self.kind.role, request.namespace, request.name, record.address)


class _NoUrl(EndpointError):
    """The L1 URL could not be resolved (its Secret is gone); reported like an unreachable endpoint."""

    kind = "Unreachable"
    metric_kind = "unreachable"


def _derive_address(raw_b64: Any) -> tuple[str, str]:
    """("address", 0x...) or ("error", why) for a base64 Secret value. The key is dropped on return."""
    try:
        raw = decode_secret_data(raw_b64)
    except SecretValueError:
        return (
            "error",
            "the Secret value is not valid base64 (was it written with data instead of stringData?)",
        )
    try:
        return "address", address_of(parse_signing_key(raw))
    except KeyFormatError as exc:
        return "error", str(exc)


def _checksum(address: str) -> str:
    from web3 import Web3

    return str(Web3.to_checksum_address(address))


def _age_key(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    return (str(meta.get("creationTimestamp") or ""), str(obj.get("kind") or ""), str(meta.get("name") or ""))


def _name_conflict(gvk: GVK, live: Mapping[str, Any], owner: Owner) -> Condition:
    return Condition(
        CONDITION_WORKLOAD_READY,
        FALSE,
        "NameConflict",
        f"{gvk.kind} {owner.namespace}/{live['metadata']['name']} exists and is not owned by this "
        f"{owner.kind}; delete or rename it (each component's workload is named like the component)",
    )


def _remove_series(component: str, namespace: str, name: str, address: str) -> None:
    with contextlib.suppress(KeyError):
        SIGNER_BALANCE.remove(component, namespace, name, address)


def _network_config_maps(network: Mapping[str, Any]) -> set[str]:
    spec, status = network.get("spec") or {}, network.get("status") or {}
    info = status.get("networkInfo") or {}
    names = {info.get("rollupConfigMap"), info.get("genesisConfigMap")}
    for field_name in ("rollupConfig", "l2Genesis"):
        source = spec.get(field_name)
        ref = source.get("configMapRef") if isinstance(source, Mapping) else None
        if isinstance(ref, Mapping):
            names.add(ref.get("name"))
    return {str(n) for n in names if n}


# --- wiring ------------------------------------------------------------------------------------------------


def register_indexes(cache: Any) -> None:
    """The shared network index and this module's indexes on the signing kinds (idempotent)."""
    register_network_ref_index(cache)
    for gvk in SIGNING_KINDS:
        informer = cache.informer_for(gvk)
        for name, fn in (
            (SEQUENCER_REF_INDEX, index_sequencer_ref),
            (SIGNER_SECRETS_INDEX, index_signer_secrets),
        ):
            if name in informer.indexer.index_names():
                continue
            with contextlib.suppress(ValueError):  # registered concurrently by another controller's set-up
                informer.add_indexer(name, fn)


def _changed(project: Callable[[Mapping[str, Any]], Any]) -> Predicate:
    """Updates pass when `project(obj)` differs between old and new; creates and deletes pass."""

    def update(event: UpdateEvent) -> bool:
        return bool(project(event.object_old) != project(event.object_new))

    return Funcs(update=update)


def _ready_status(obj: Mapping[str, Any]) -> str | None:
    cond = find((obj.get("status") or {}).get("conditions"), CONDITION_READY)
    return str(cond.get("status")) if cond is not None else None


def _network_projection(obj: Mapping[str, Any]) -> Any:
    info = (obj.get("status") or {}).get("networkInfo") or {}
    return (
        (obj.get("metadata") or {}).get("generation"),
        _ready_status(obj),
        canonical_json(info.get("discoveredContracts") or {}),
        info.get("rollupConfigMap"),
        info.get("genesisConfigMap"),
    )


def _node_projection(obj: Mapping[str, Any]) -> Any:
    return ((obj.get("metadata") or {}).get("generation"), _ready_status(obj))


def _signer_projection(obj: Mapping[str, Any]) -> Any:
    meta = obj.get("metadata") or {}
    return (meta.get("generation"), bool(meta.get("deletionTimestamp")))


def _secret_projection(obj: Mapping[str, Any]) -> Any:
    return (obj.get("metadata") or {}).get("resourceVersion")


def setup_component(
    mgr: Any, kind: ComponentKind, settings: Settings | None = None, *, max_concurrent_reconciles: int = 2
) -> Controller:
    """Wire the controller of one signing kind into `mgr`; returns the controller."""
    reconciler = SigningComponentReconciler(
        kind, mgr.client, mgr.cache, mgr.event_recorder(kind.controller_name), settings
    )
    register_indexes(mgr.cache)
    builder = (
        ControllerBuilder(mgr)
        .named(kind.controller_name)
        # Status writes do not bump the generation: the controller does not wake itself up.
        .for_(kind.gvk, predicates=[GenerationChangedPredicate()])
        .owns(kind.workload)
        .owns(SERVICE)
        .watches(
            NETWORK,
            EnqueueRequestsFromMapFunc(reconciler.for_network),
            predicates=[_changed(_network_projection)],
        )
        .watches(
            OPNODE,
            EnqueueRequestsFromMapFunc(reconciler.for_sequencer),
            predicates=[_changed(_node_projection)],
        )
        .watches(
            SECRET,
            EnqueueRequestsFromMapFunc(reconciler.for_secret),
            predicates=[_changed(_secret_projection)],
        )
        .with_options(max_concurrent_reconciles=max_concurrent_reconciles)
    )
    for gvk in SIGNING_KINDS:
        builder.watches(
            gvk,
            EnqueueRequestsFromMapFunc(reconciler.for_signing_component),
            predicates=[_changed(_signer_projection)],
        )
    if kind.mounts_network_config:
        builder.watches(CONFIG_MAP, EnqueueRequestsFromMapFunc(reconciler.for_config_map))
    return builder.complete(reconciler)


__all__ = [
    "SIGNER_BALANCE",
    "ComponentKind",
    "Endpoints",
    "Inputs",
    "Rendered",
    "Settings",
    "SigningComponentReconciler",
    "format_ether",
    "parse_ether_amount",
    "phase_of",
    "setup_component",
    "workload_condition",
]
