"""The OpNode controller: one op-node + op-geth pair per pod in a StatefulSet, sequencer or replica.

One reconcile, in order (each step sets its condition; the first that fails blocks the steps after it,
whose conditions become Unknown "waiting for ..."):
1. NetworkReady: the referenced OptimismNetwork exists and publishes what the pod mounts (rollup config and
   genesis ConfigMaps of a custom chain, the Secret holding an L1 URL).
2. SecretsReady: generated keys (engine JWT, P2P identity) exist as Secrets owned by the OpNode, created
   once and never rewritten; referenced keys exist and have the format the binaries accept. Status shows
   the P2P peer id and the sequencer's signer address, derived from the keys (never the keys).
3. SequencerReady (replicas with spec.sequencerRef): the sequencer OpNode exists, is a sequencer of the
   same network and has published its peer id (it becomes the replica's static peer).
4. ConfigurationValid: the children render (`opstack.resources.opnode`) and no object of the same name
   belongs to someone else; then they are server-side applied with one field manager.
5. WorkloadReady from the StatefulSet and its Pods; the phase (Pending, Initializing, Running, Degraded,
   Error); Ready summarises 1-5.
6. NodeReachable and Syncing from the node's own RPC (op-node and op-geth through the OpNode's Service),
   read at most every `Settings.status_interval` with a short timeout; informational, not part of Ready
   (an operator outside the cluster cannot reach the Service).

Invariants:
- Zero writes when nothing changed: a child is applied only when the cached one differs from what would be
  applied (the StatefulSet by its pod template's config hash plus the fields set outside the template;
  other children by a subset comparison of every field the controller sets); status is written only when
  it differs (conditions keep their transition time; nodeInfo.lastUpdated moves only with the values);
  Events only on condition changes.
- The config hash on the pod template covers the template and a digest of every Secret and ConfigMap value
  the pod reads (not their resourceVersions, so metadata-only edits roll nothing); a change of spec,
  network, or referenced value rolls the pods.
- Secrets never reach a log, an Event or status: messages name the Secret and key, and say what is wrong
  with the value's shape (`KeyFormatError`), never the value. Config-hash digests are folded into one
  sha256 of the whole template.
- Children carry a controller owner reference; garbage collection removes them with the OpNode, so the
  controller needs no finalizer. Claims of the StatefulSet are retained (chain data is costly).
- The node's RPC is read only through `opstack.chain.node`, each endpoint at most once per interval and
  bounded by `Settings.rpc_timeout`.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from pydantic import ValidationError

from opstack.api.v1alpha1 import (
    CONDITION_CONFIGURATION_VALID,
    CONDITION_NETWORK_READY,
    CONDITION_NODE_REACHABLE,
    CONDITION_READY,
    CONDITION_SECRETS_READY,
    CONDITION_SEQUENCER_READY,
    CONDITION_SYNCING,
    CONDITION_WORKLOAD_READY,
    OP_NODE,
    OPTIMISM_NETWORK,
    OpNodeSpec,
    OptimismNetworkSpec,
    OptimismNetworkStatus,
)
from opstack.chain.node import NodeReport, read_node
from opstack.chain.wellknown import well_known
from opstack.components import keys
from opstack.components.common import (
    ComponentConfigError,
    NetworkFacts,
    NetworkNotReadyError,
    SecretRef,
    resolve_network,
)
from opstack.components.opnode import (
    JWT_SECRET_KEY,
    P2P_SECRET_KEY,
    NodeSecrets,
    NodeUrls,
    OpNodeInputs,
    node_secrets,
    node_urls,
)
from opstack.components.versions import check_pair, node_images
from opstack.controllers import opnode_rules  # noqa: F401  (the RBAC rules this controller needs)
from opstack.controllers.apply import ChildApplier, ChildRejected, NameConflict
from opstack.controllers.conditions import (
    FALSE,
    TRUE,
    UNKNOWN,
    Clock,
    Condition,
    ConditionSet,
    rfc3339,
    summarize,
    utcnow,
)
from opstack.controllers.indexes import NETWORK_REF_INDEX, network_key, register_network_ref_index
from opstack.controllers.optimismnetwork import (
    CONFIG_MAP_REFS_INDEX,
    SECRET_REFS_INDEX,
    index_config_map_refs,
    index_secret_refs,
)
from opstack.resources.config import generated_secret, secret_value
from opstack.resources.meta import (
    LABEL_MANAGED_BY,
    LABEL_NAME,
    MANAGED_BY,
    MANAGED_SELECTOR,
    Owner,
    controlled_by,
)
from opstack.resources.opnode import (
    APP,
    opnode_headless_service,
    opnode_p2p_services,
    opnode_pdb,
    opnode_service,
    opnode_statefulset,
    static_peer,
)
from opstack.runtime import errors
from opstack.runtime.builder import ControllerBuilder
from opstack.runtime.controller import Controller
from opstack.runtime.events import NORMAL, WARNING, EventRecorder
from opstack.runtime.frozen import thaw
from opstack.runtime.gvk import GVK
from opstack.runtime.handler import EnqueueRequestsFromMapFunc
from opstack.runtime.informer import OWNER_UID_INDEX
from opstack.runtime.predicate import GenerationChangedPredicate
from opstack.runtime.reconcile import Request, Result

log = structlog.get_logger("opstack.controllers.opnode")

OPNODE = OP_NODE.gvk
NETWORK = OPTIMISM_NETWORK.gvk
STATEFULSET = GVK("apps", "v1", "StatefulSet")
SERVICE = GVK("", "v1", "Service")
SECRET = GVK("", "v1", "Secret")
CONFIG_MAP = GVK("", "v1", "ConfigMap")
POD = GVK("", "v1", "Pod")
PDB = GVK("policy", "v1", "PodDisruptionBudget")

FIELD_MANAGER = "opstack-opnode"
CONTROLLER_NAME = "opnode"
CONFLICT_RETRY = 0.2  # seconds before a reconcile whose status write conflicted runs again

# Indexes on OpNode: the sequencer a replica follows, the Secrets its spec names ("<namespace>/<name>").
SEQUENCER_REF_INDEX = "opnode.sequencerRef"
SECRET_REFS = "opnode.secretRefs"

# The dependency conditions, in the order a reconcile checks them; Ready summarises them and the workload.
_STEPS = (
    CONDITION_NETWORK_READY,
    CONDITION_SECRETS_READY,
    CONDITION_SEQUENCER_READY,
    CONDITION_CONFIGURATION_VALID,
)
# Reasons of a failed step that mean "waiting for something that is on its way" (phase Pending, not Error).
_WAITING_REASONS = frozenset(
    {"NetworkNotFound", "NetworkNotPublished", "SequencerNotFound", "SequencerNotReady", "Waiting"}
)
# Pod waiting reasons that mean the pod will not start without a fix.
_POD_FAILURES = frozenset(
    {
        "CrashLoopBackOff",
        "ImagePullBackOff",
        "ErrImagePull",
        "InvalidImageName",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
    }
)


@dataclass(frozen=True)
class Settings:
    """Timing and reach of the controller; tests shorten or redirect these."""

    status_interval: float = 30.0  # node RPC re-read this often while it answers
    unreachable_interval: float = 60.0  # ... and this often while it does not
    rpc_timeout: float = 2.0  # per endpoint call
    syncing_l1_lag: int = 20  # L1 blocks between op-node's derivation and the L1 head that count as syncing
    read_node_rpc: bool = True
    # Where the operator reads the node's RPC; default: the OpNode's ClusterIP Service (in-cluster DNS).
    endpoints: Callable[[str, str, OpNodeSpec], NodeUrls] | None = None


class Blocked(Exception):
    """A step that cannot complete; its condition says why."""

    def __init__(self, condition: Condition) -> None:
        super().__init__(condition.message)
        self.condition = condition


# --- pure helpers ------------------------------------------------------------------------------------------


def value_digest(kind: str, name: str, key: str, value: bytes | str) -> str:
    """A digest of one referenced value for the config hash (never the value itself)."""
    raw = value.encode() if isinstance(value, str) else value
    return hashlib.sha256(f"{kind}/{name}/{key}\0".encode() + raw).hexdigest()


def _prune(value: Any) -> Any:
    """Drop None values and empty dicts, so that a stored status and a computed one compare equal."""
    if isinstance(value, Mapping):
        out = {k: _prune(v) for k, v in value.items() if v is not None}
        return {k: v for k, v in out.items() if v != {}}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def sequencer_ref(obj: Mapping[str, Any]) -> tuple[str, str] | None:
    spec = obj.get("spec")
    ref = spec.get("sequencerRef") if isinstance(spec, Mapping) else None
    if not isinstance(ref, Mapping) or not isinstance(ref.get("name"), str) or not ref["name"]:
        return None
    namespace = ref.get("namespace") or (obj.get("metadata") or {}).get("namespace") or ""
    return str(namespace), str(ref["name"])


def index_sequencer_ref(obj: Mapping[str, Any]) -> list[str]:
    ref = sequencer_ref(obj)
    return [network_key(*ref)] if ref is not None else []


def referenced_secrets(obj: Mapping[str, Any]) -> list[str]:
    """ "ns/name" of the Secrets an OpNode's spec names (JWT, P2P key, sequencer signing key)."""
    namespace = str((obj.get("metadata") or {}).get("namespace") or "")
    spec = obj.get("spec") if isinstance(obj.get("spec"), Mapping) else {}
    op_node = spec.get("opNode") if isinstance(spec, Mapping) else None
    found: list[str] = []
    if isinstance(op_node, Mapping):
        candidates = [
            ((op_node.get("engine") or {}).get("jwtSecret") or {}).get("secretRef"),
            ((op_node.get("p2p") or {}).get("privateKey") or {}).get("secretRef"),
            (op_node.get("sequencer") or {}).get("signingKey"),
        ]
        for ref in candidates:
            if isinstance(ref, Mapping) and ref.get("name"):
                found.append(network_key(namespace, str(ref["name"])))
    return sorted(set(found))


def workload_condition(
    sts: Mapping[str, Any] | None, pods: Sequence[Mapping[str, Any]], replicas: int
) -> tuple[Condition, str]:
    """WorkloadReady and the phase it implies, from the StatefulSet and its Pods."""
    if replicas == 0:
        return Condition(CONDITION_WORKLOAD_READY, FALSE, "ScaledToZero", "spec.replicas is 0"), "Pending"
    if sts is None:
        return (
            Condition(CONDITION_WORKLOAD_READY, FALSE, "NotCreated", "the StatefulSet is not created yet"),
            "Pending",
        )
    status = sts.get("status") or {}
    ready = int(status.get("readyReplicas") or 0)
    updated = int(status.get("updatedReplicas") or 0)
    observed = status.get("observedGeneration")
    generation = (sts.get("metadata") or {}).get("generation")
    failing: list[str] = []
    unscheduled: list[str] = []
    starting: list[str] = []
    for pod in sorted(pods, key=lambda p: str(p["metadata"]["name"])):
        name = pod["metadata"]["name"]
        pstatus = pod.get("status") or {}
        for cs in [*(pstatus.get("initContainerStatuses") or ()), *(pstatus.get("containerStatuses") or ())]:
            waiting = (cs.get("state") or {}).get("waiting") or {}
            if waiting.get("reason") in _POD_FAILURES:
                failing.append(f"pod {name} container {cs.get('name')}: {waiting['reason']}")
        for cond in pstatus.get("conditions") or ():
            if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
                unscheduled.append(
                    f"pod {name} is not scheduled ({cond.get('reason')}: {cond.get('message')})"
                )
        if pstatus.get("phase") != "Running":
            starting.append(str(name))
    if ready >= replicas and updated >= replicas and observed == generation:
        return (
            Condition(
                CONDITION_WORKLOAD_READY, TRUE, "AllReplicasReady", f"{replicas}/{replicas} pods ready"
            ),
            "Running",
        )
    summary = f"{ready}/{replicas} pods ready"
    if failing:
        cond = Condition(CONDITION_WORKLOAD_READY, FALSE, "PodFailing", f"{summary}; " + "; ".join(failing))
        return cond, "Degraded" if ready else "Error"
    if ready:
        reason = "RolloutInProgress" if updated < replicas or observed != generation else "ReplicasNotReady"
        return Condition(CONDITION_WORKLOAD_READY, FALSE, reason, summary), "Degraded"
    if unscheduled:
        return (
            Condition(
                CONDITION_WORKLOAD_READY, FALSE, "PodsUnscheduled", f"{summary}; " + "; ".join(unscheduled)
            ),
            "Pending",
        )
    if not pods:
        return Condition(
            CONDITION_WORKLOAD_READY, FALSE, "PodsNotCreated", f"{summary}; no pods yet"
        ), "Pending"
    return Condition(
        CONDITION_WORKLOAD_READY, FALSE, "PodsStarting", f"{summary}; pods starting"
    ), "Initializing"


def node_info_from(report: NodeReport) -> dict[str, Any]:
    """status.nodeInfo fields from one RPC read (without peerID and lastUpdated)."""
    info: dict[str, Any] = {}
    if report.geth_head is not None:
        head: dict[str, Any] = {"blockNumber": report.geth_head.number, "blockHash": report.geth_head.hash}
        if report.geth_head.timestamp is not None:
            head["timestamp"] = rfc3339(_from_unix(report.geth_head.timestamp))
        info["chainHead"] = head
    sync = report.sync_status
    if sync is not None:
        refs = {}
        for attr, key in (
            ("current_l1", "currentL1"),
            ("head_l1", "headL1"),
            ("finalized_l1", "finalizedL1"),
            ("unsafe_l2", "unsafeL2"),
            ("safe_l2", "safeL2"),
            ("finalized_l2", "finalizedL2"),
        ):
            ref = getattr(sync, attr)
            if ref is not None:
                refs[key] = {"number": ref.number, "hash": ref.hash, "timestamp": ref.timestamp}
        info["syncStatus"] = refs
        unsafe = sync.unsafe_l2
        info["engineConnected"] = bool(unsafe is not None and unsafe.hash and int(unsafe.hash, 16) != 0)
    if report.peer_count is not None:
        info["peerCount"] = report.peer_count
    if report.version is not None:
        info["version"] = report.version
    syncing = syncing_state(report, 0)
    if syncing is not None:
        info["syncing"] = syncing[0]
    return info


def syncing_state(report: NodeReport, max_l1_lag: int) -> tuple[bool, str] | None:
    """(syncing, why) from one RPC read; None when nothing tells. Messages hold no moving numbers."""
    lag = report.sync_status.l1_lag if report.sync_status is not None else None
    if report.geth_syncing:
        return True, "op-geth reports it is syncing (eth_syncing)"
    if lag is not None and lag > max_l1_lag:
        return True, f"op-node's derivation is more than {max_l1_lag} L1 blocks behind the L1 head"
    if report.geth_syncing is False and lag is not None:
        return (
            False,
            f"op-geth is not syncing and op-node derives within {max_l1_lag} L1 blocks of the L1 head",
        )
    if report.geth_syncing is False:
        return False, "op-geth reports it is not syncing (op-node's sync status unavailable)"
    if lag is not None:
        return False, f"op-node derives within {max_l1_lag} L1 blocks of the L1 head"
    return None


def _from_unix(ts: int) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC)


# --- in-memory record of the last RPC read -----------------------------------------------------------------


@dataclass
class RpcRecord:
    uid: str
    urls: tuple[str, str | None]
    checked_at: float  # monotonic
    report: NodeReport


@dataclass
class _Resolved:
    """What the steps of one reconcile found."""

    spec: OpNodeSpec | None = None
    network: Mapping[str, Any] | None = None
    facts: NetworkFacts | None = None
    secrets: NodeSecrets | None = None
    referenced: dict[str, str] = field(default_factory=dict)
    peer_id: str | None = None
    signer: str | None = None
    inputs: OpNodeInputs | None = None
    applied: dict[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict)
    generated: list[SecretRef] = field(default_factory=list)  # Secrets this reconcile created


# --- the reconciler ----------------------------------------------------------------------------------------


class OpNodeReconciler:
    def __init__(
        self,
        client: Any,
        cache: Any,
        recorder: EventRecorder,
        settings: Settings | None = None,
        *,
        now: Clock = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.cache = cache
        self.recorder = recorder
        self.settings = settings or Settings()
        self.now = now
        self.monotonic = monotonic
        self._rpc: dict[str, RpcRecord] = {}
        self._peer_ids: dict[str, str] = {}  # sha256 of a P2P key -> its peer id
        self._lock = threading.Lock()
        self._applier = ChildApplier(client, FIELD_MANAGER)

    def _peer_id(self, private_key: bytes) -> str:
        """The P2P peer id of a key, remembered by the key's sha256: deriving it is pure-Python secp256k1
        arithmetic (~1.6 ms), and every reconcile of the node needs it. Bounded: cleared past 10000 keys."""
        digest = hashlib.sha256(private_key).hexdigest()
        with self._lock:
            known = self._peer_ids.get(digest)
        if known is None:
            known = keys.peer_id_of(private_key)
            with self._lock:
                if len(self._peer_ids) >= 10000:
                    self._peer_ids.clear()
                self._peer_ids[digest] = known
        return known

    # -- mapping functions for watches

    def nodes_of_network(self, obj: Mapping[str, Any]) -> list[Request]:
        meta = obj.get("metadata") or {}
        key = network_key(str(meta.get("namespace") or ""), str(meta.get("name") or ""))
        return [Request.for_object(n) for n in self.cache.list(OPNODE, index=(NETWORK_REF_INDEX, key))]

    def replicas_of_sequencer(self, obj: Mapping[str, Any]) -> list[Request]:
        meta = obj.get("metadata") or {}
        key = network_key(str(meta.get("namespace") or ""), str(meta.get("name") or ""))
        return [Request.for_object(n) for n in self.cache.list(OPNODE, index=(SEQUENCER_REF_INDEX, key))]

    def nodes_of_secret(self, obj: Mapping[str, Any]) -> list[Request]:
        meta = obj.get("metadata") or {}
        key = network_key(str(meta.get("namespace") or ""), str(meta.get("name") or ""))
        found = {Request.for_object(n) for n in self.cache.list(OPNODE, index=(SECRET_REFS, key))}
        for net in self.cache.list(NETWORK, index=(SECRET_REFS_INDEX, key)):
            found.update(self.nodes_of_network(net))
        return sorted(found)

    def nodes_of_config_map(self, obj: Mapping[str, Any]) -> list[Request]:
        meta = obj.get("metadata") or {}
        namespace = str(meta.get("namespace") or "")
        key = network_key(namespace, str(meta.get("name") or ""))
        found: set[Request] = set()
        for net in self.cache.list(NETWORK, index=(CONFIG_MAP_REFS_INDEX, key)):
            found.update(self.nodes_of_network(net))
        for ref in meta.get("ownerReferences") or ():
            if ref.get("kind") == NETWORK.kind and ref.get("controller"):
                found.update(
                    self.nodes_of_network({"metadata": {"namespace": namespace, "name": ref["name"]}})
                )
        return sorted(found)

    @staticmethod
    def node_of_pod(obj: Mapping[str, Any]) -> list[Request]:
        meta = obj.get("metadata") or {}
        labels = meta.get("labels") or {}
        if labels.get(LABEL_NAME) != APP or labels.get(LABEL_MANAGED_BY) != MANAGED_BY:
            return []
        for ref in meta.get("ownerReferences") or ():
            if ref.get("kind") == "StatefulSet" and ref.get("controller"):
                return [Request(str(meta.get("namespace") or ""), str(ref["name"]))]
        return []

    # -- reconcile

    def reconcile(self, request: Request) -> Result:
        try:
            node = self.cache.get(OPNODE, request.name, request.namespace)
        except errors.NotFound:
            with self._lock:
                self._rpc.pop(str(request), None)
            return Result()
        if node["metadata"].get("deletionTimestamp"):
            return Result()  # owner references: the garbage collector removes the children
        try:
            return self._reconcile(node)
        except errors.Forbidden as exc:
            if "being terminated" not in exc.message:
                raise
            # The namespace is being deleted: its objects go, the OpNode with them; nothing to create.
            log.debug("namespace terminating", opnode=request.name, namespace=request.namespace)
            return Result()

    def _reconcile(self, node: Mapping[str, Any]) -> Result:
        meta = node["metadata"]
        generation = meta.get("generation")
        stored: Mapping[str, Any] = node.get("status") or {}
        conditions = ConditionSet(stored.get("conditions"), observed_generation=generation, now=self.now)
        resolved = _Resolved()
        owner = Owner.of(node)
        is_replica_with_ref = (node.get("spec") or {}).get("nodeType") == "replica" and bool(
            sequencer_ref(node)
        )
        steps = [s for s in _STEPS if s != CONDITION_SEQUENCER_READY or is_replica_with_ref]
        blocked: Condition | None = None
        try:
            resolved.spec = self._parse_spec(node)
            resolved.network, resolved.facts = self._network(node, resolved.spec, resolved)
            conditions.set(
                Condition(CONDITION_NETWORK_READY, TRUE, "Resolved", self._network_message(resolved.network))
            )
            try:
                self._secrets(node, owner, resolved)
            finally:
                self._record_generated(node, resolved.generated)
            conditions.set(Condition(CONDITION_SECRETS_READY, TRUE, "Valid", self._secrets_message(resolved)))
            resolved.inputs = self._inputs(node, resolved)
            if is_replica_with_ref:
                conditions.set(
                    Condition(
                        CONDITION_SEQUENCER_READY,
                        TRUE,
                        "Resolved",
                        f"following sequencer OpNode {sequencer_ref(node)[1]}",  # type: ignore[index]
                    )
                )
            desired = self._desired(node, owner, resolved)
            self._apply(node, owner, desired, resolved)
            conditions.set(
                Condition(
                    CONDITION_CONFIGURATION_VALID,
                    TRUE,
                    "Applied",
                    f"{len(desired)} objects applied; images {', '.join(self._images(resolved.spec))}",
                )
            )
        except Blocked as b:
            blocked = b.condition
            conditions.set(blocked)
            later = steps[steps.index(blocked.type) + 1 :] if blocked.type in steps else []
            for type_ in later:
                conditions.set(Condition(type_, UNKNOWN, "Waiting", f"checked once {blocked.type} is True"))

        replicas = int((node.get("spec") or {}).get("replicas", 1))
        sts, pods = self._workload(node)
        if sts is None and ("StatefulSet", owner.name) in resolved.applied:
            # Created by this reconcile, not in the cache yet: judge the workload by the API server's answer,
            # so that the first status written is already the one the StatefulSet's watch event would bring.
            sts = resolved.applied[("StatefulSet", owner.name)]
        workload, workload_phase = workload_condition(sts, pods, replicas)
        conditions.set(workload)
        conditions.set(summarize(conditions.to_list(), [*steps, CONDITION_WORKLOAD_READY], "the node runs"))

        requeue: list[float] = []
        report = self._read_rpc(node, resolved, workload, requeue)
        self._rpc_conditions(conditions, report, resolved, workload)

        if blocked is not None:
            phase = "Pending" if blocked.reason in _WAITING_REASONS else "Error"
            if workload_phase in ("Running", "Degraded") and phase == "Pending":
                phase = "Degraded"
        else:
            phase = workload_phase

        status: dict[str, Any] = {
            "phase": phase,
            "observedGeneration": generation,
            "conditions": conditions.to_list(),
            "replicas": int(((sts or {}).get("status") or {}).get("replicas") or 0),
            "readyReplicas": int(((sts or {}).get("status") or {}).get("readyReplicas") or 0),
            "nodeInfo": self._node_info(stored.get("nodeInfo") or {}, report, resolved),
            "unsafeBlockSigner": resolved.signer,
        }
        if _prune(status) != _prune(thaw(stored)):
            obj = thaw(node)
            obj["status"] = _prune(status)
            try:
                self.client.update_status(obj, field_manager=FIELD_MANAGER)
            except errors.Conflict:
                # The cache has not seen our previous status write yet (its event does not requeue us:
                # the generation did not change); try again shortly with the fresh object.
                log.debug("status conflict; retrying", opnode=meta["name"], namespace=meta["namespace"])
                return Result(requeue_after=CONFLICT_RETRY)
            self._record_events(node, conditions, [*steps, CONDITION_WORKLOAD_READY])
        return Result(requeue_after=min(requeue)) if requeue else Result()

    # -- 0. spec

    @staticmethod
    def _parse_spec(node: Mapping[str, Any]) -> OpNodeSpec:
        try:
            return OpNodeSpec.model_validate(thaw(node.get("spec") or {}))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = "spec." + ".".join(str(p) for p in first.get("loc", ()))
            raise Blocked(
                Condition(
                    CONDITION_CONFIGURATION_VALID,
                    FALSE,
                    "SpecInvalid",
                    f"{where}: {first.get('msg')}; correct the field (kubectl explain opnode.{where})",
                )
            ) from None

    # -- 1. network

    def _network(
        self, node: Mapping[str, Any], spec: OpNodeSpec, resolved: _Resolved
    ) -> tuple[Mapping[str, Any], NetworkFacts]:
        namespace = str(node["metadata"]["namespace"])
        ref = spec.optimism_network_ref
        net_ns = ref.namespace or namespace

        def fail(reason: str, message: str) -> Blocked:
            return Blocked(Condition(CONDITION_NETWORK_READY, FALSE, reason, message))

        try:
            network = self.cache.get(NETWORK, ref.name, net_ns)
        except errors.NotFound:
            raise fail(
                "NetworkNotFound",
                f"spec.optimismNetworkRef: OptimismNetwork {net_ns}/{ref.name} not found; create it or "
                "correct spec.optimismNetworkRef.name",
            ) from None
        if net_ns != namespace:
            raise fail(
                "NetworkInOtherNamespace",
                f"spec.optimismNetworkRef: OptimismNetwork {net_ns}/{ref.name} is in another namespace; the "
                "pod mounts the network's ConfigMaps and Secrets, which must be in the OpNode's namespace "
                f"(create the OpNode in namespace {net_ns})",
            )
        try:
            net_spec = OptimismNetworkSpec.model_validate(thaw(network.get("spec") or {}))
            net_status = OptimismNetworkStatus.model_validate(thaw(network.get("status") or {}))
        except ValidationError:
            raise fail(
                "NetworkInvalid",
                f"OptimismNetwork {ref.name} does not validate; see its ConfigurationValid condition",
            ) from None
        chain = well_known(net_spec.network_name, net_spec.chain_id) if net_spec.network_name else None
        try:
            facts = resolve_network(
                ref.name,
                net_spec,
                net_status,
                public_sequencer_url=chain.sequencer_rpc if chain is not None else None,
            )
        except NetworkNotReadyError as exc:
            raise fail("NetworkNotPublished", f"{exc}; waiting for the network controller") from None
        except ComponentConfigError as exc:
            raise fail("NetworkInvalid", str(exc)) from None
        # The values the pod reads from the network's ConfigMaps and Secrets (their digests roll the pods).
        for what, cm in (("rollup config", facts.rollup_config), ("genesis", facts.genesis)):
            if cm is None:
                continue
            try:
                data = self.cache.get(CONFIG_MAP, cm.name, namespace).get("data") or {}
            except errors.NotFound:
                raise fail(
                    "NetworkNotPublished",
                    f"the {what} ConfigMap {cm.name} of OptimismNetwork {ref.name} does not exist yet",
                ) from None
            if cm.key not in data:
                raise fail(
                    "NetworkInvalid",
                    f"the {what} ConfigMap {cm.name} of OptimismNetwork {ref.name} has no key {cm.key!r}",
                )
            resolved.referenced[f"ConfigMap/{cm.name}/{cm.key}"] = value_digest(
                "ConfigMap", cm.name, cm.key, str(data[cm.key])
            )
        for what, src in (
            ("spec.l1RpcUrlSecretRef", facts.l1_rpc),
            ("spec.l1BeaconUrlSecretRef", facts.l1_beacon),
        ):
            if isinstance(src, SecretRef):
                value = self._secret_bytes(namespace, src)
                if value is None:
                    raise fail(
                        "NetworkInvalid",
                        f"{what} of OptimismNetwork {ref.name}: Secret {src.name} or its key {src.key!r} "
                        "is missing; see the network's ConfigurationValid condition",
                    )
                resolved.referenced[f"Secret/{src.name}/{src.key}"] = value_digest(
                    "Secret", src.name, src.key, value
                )
        return network, facts

    @staticmethod
    def _network_message(network: Mapping[str, Any]) -> str:
        name = network["metadata"]["name"]
        for cond in (network.get("status") or {}).get("conditions") or ():
            if cond.get("type") == CONDITION_READY:
                if cond.get("status") == TRUE:
                    return f"OptimismNetwork {name} is Ready"
                return (
                    f"OptimismNetwork {name} provides what the node needs "
                    f"(its Ready is {cond.get('status')}: {cond.get('reason')})"
                )
        return f"OptimismNetwork {name} provides what the node needs"

    # -- 2. secrets

    def _secret_bytes(self, namespace: str, ref: SecretRef) -> bytes | None:
        try:
            secret = self.cache.get(SECRET, ref.name, namespace)
        except errors.NotFound:
            return None
        return secret_value(secret, ref.key)

    def _secrets(self, node: Mapping[str, Any], owner: Owner, resolved: _Resolved) -> None:
        spec = resolved.spec
        assert spec is not None and resolved.facts is not None
        namespace = owner.namespace
        secrets = node_secrets(owner.name, spec)
        resolved.secrets = secrets

        def fail(reason: str, message: str) -> Blocked:
            return Blocked(Condition(CONDITION_SECRETS_READY, FALSE, reason, message))

        def value_of(ref: SecretRef, generated: bool, field_name: str, generate: Callable[[], str]) -> bytes:
            try:
                secret: Mapping[str, Any] | None = self.cache.get(SECRET, ref.name, namespace)
            except errors.NotFound:
                secret = None
            if secret is None and generated:
                secret = self._generate_secret(owner, ref, generate, resolved)
            if secret is None:
                raise fail(
                    "SecretNotFound",
                    f"{field_name}: Secret {namespace}/{ref.name} not found; create it with key {ref.key!r}, "
                    f"or correct {field_name}",
                )
            if generated and not controlled_by(secret, owner):
                raise fail(
                    "SecretConflict",
                    f"{field_name}: Secret {namespace}/{ref.name}, where the operator keeps the generated "
                    "key, exists and is not owned by this OpNode; delete or rename it, or reference it with "
                    f"{field_name}.secretRef",
                )
            value = secret_value(secret, ref.key)
            if value is None:
                keys_ = ", ".join(sorted(secret.get("data") or {})) or "none"
                raise fail(
                    "SecretKeyMissing",
                    f"{field_name}: Secret {namespace}/{ref.name} has no key {ref.key!r} "
                    f"(its keys: {keys_}); add it, or correct {field_name}",
                )
            resolved.referenced[f"Secret/{ref.name}/{ref.key}"] = value_digest(
                "Secret", ref.name, ref.key, value
            )
            return value

        def check(parse: Callable[[bytes], bytes], value: bytes, ref: SecretRef, field_name: str) -> bytes:
            try:
                return parse(value)
            except keys.KeyFormatError as exc:
                raise fail(
                    "SecretValueInvalid",
                    f"{field_name}: key {ref.key!r} of Secret {namespace}/{ref.name}: {exc}",
                ) from None

        jwt_field = "spec.opNode.engine.jwtSecret" + ("" if secrets.jwt_generated else ".secretRef")
        jwt = value_of(secrets.jwt, secrets.jwt_generated, jwt_field, keys.generate_jwt_secret)
        check(keys.parse_jwt_secret, jwt, secrets.jwt, jwt_field)
        if secrets.p2p is not None:
            p2p_field = "spec.opNode.p2p.privateKey" + ("" if secrets.p2p_generated else ".secretRef")
            raw = value_of(secrets.p2p, secrets.p2p_generated, p2p_field, keys.generate_p2p_key)
            resolved.peer_id = self._peer_id(check(keys.parse_p2p_key, raw, secrets.p2p, p2p_field))
        if secrets.sequencer_key is not None:
            seq_field = "spec.opNode.sequencer.signingKey"
            raw = value_of(secrets.sequencer_key, False, seq_field, keys.generate_signing_key)
            key = check(keys.parse_signing_key, raw, secrets.sequencer_key, seq_field)
            resolved.signer = keys.address_of(key)
            expected = (((resolved.network or {}).get("status") or {}).get("networkInfo") or {}).get(
                "unsafeBlockSigner"
            )
            if expected and str(expected).lower() != resolved.signer.lower():
                raise fail(
                    "SignerMismatch",
                    f"{seq_field}: the key in Secret {namespace}/{secrets.sequencer_key.name} signs as "
                    f"{resolved.signer}, but the chain's unsafe block signer is {expected}; replicas would "
                    "reject its blocks. Store the unsafe block signer's key",
                )

    def _generate_secret(
        self, owner: Owner, ref: SecretRef, generate: Callable[[], str], resolved: _Resolved
    ) -> Mapping[str, Any] | None:
        """Create a generated Secret once. The cache may lag behind an earlier create, so a create is never a
        replace: AlreadyExists returns the Secret the API server has (key material, once made, is kept)."""
        component = (
            "engine-jwt" if ref.key == JWT_SECRET_KEY else "p2p-key" if ref.key == P2P_SECRET_KEY else "key"
        )
        secret = generated_secret(
            owner,
            ref.name,
            {ref.key: generate()},
            app=APP,
            component=component,
            network=resolved.facts.name if resolved.facts is not None else "",
        )
        try:
            created: Mapping[str, Any] = self.client.create(secret, field_manager=FIELD_MANAGER)
        except errors.AlreadyExists:
            existing: Mapping[str, Any] = self.client.get(SECRET, ref.name, owner.namespace)
            return existing
        log.info("generated secret", opnode=owner.name, namespace=owner.namespace, secret=ref.name)
        resolved.generated.append(ref)
        return created

    def _record_generated(self, node: Mapping[str, Any], generated: list[SecretRef]) -> None:
        """One Event for the Secrets a reconcile generated (a new node has two: one Event, not two requests
        more per node while a thousand converge)."""
        if generated:
            names = ", ".join(f"{ref.name} (key {ref.key})" for ref in generated)
            self.recorder.event(node, NORMAL, "SecretGenerated", f"generated Secret {names}")

    @staticmethod
    def _secrets_message(resolved: _Resolved) -> str:
        s = resolved.secrets
        assert s is not None
        parts = [f"engine JWT in Secret {s.jwt.name}" + (" (generated)" if s.jwt_generated else "")]
        if s.p2p is not None:
            parts.append(
                f"P2P key in Secret {s.p2p.name}"
                + (" (generated)" if s.p2p_generated else "")
                + f", peer id {resolved.peer_id}"
            )
        if s.sequencer_key is not None:
            parts.append(f"sequencer signing key in Secret {s.sequencer_key.name} signs as {resolved.signer}")
        return "; ".join(parts)

    # -- 3. sequencer, inputs

    def _inputs(self, node: Mapping[str, Any], resolved: _Resolved) -> OpNodeInputs:
        spec, facts, secrets = resolved.spec, resolved.facts, resolved.secrets
        assert spec is not None and facts is not None and secrets is not None
        namespace = str(node["metadata"]["namespace"])
        static: tuple[str, ...] = ()
        sequencer_http: str | None = None
        ref = sequencer_ref(node) if spec.node_type == "replica" else None
        if ref is not None:
            seq_ns, seq_name = ref

            def fail(reason: str, message: str) -> Blocked:
                return Blocked(Condition(CONDITION_SEQUENCER_READY, FALSE, reason, message))

            try:
                seq = self.cache.get(OPNODE, seq_name, seq_ns)
            except errors.NotFound:
                raise fail(
                    "SequencerNotFound",
                    f"spec.sequencerRef: OpNode {seq_ns}/{seq_name} not found; create it or correct "
                    "spec.sequencerRef.name",
                ) from None
            seq_spec = self._parse_spec(seq)
            if seq_spec.node_type != "sequencer":
                raise fail(
                    "NotASequencer",
                    f"spec.sequencerRef: OpNode {seq_name} is a {seq_spec.node_type}; name the chain's "
                    "sequencer OpNode",
                )
            if (seq_spec.optimism_network_ref.name, seq_spec.optimism_network_ref.namespace or seq_ns) != (
                facts.name,
                namespace,
            ):
                raise fail(
                    "SequencerOfOtherNetwork",
                    f"spec.sequencerRef: OpNode {seq_name} belongs to OptimismNetwork "
                    f"{seq_spec.optimism_network_ref.name}, not {facts.name}",
                )
            sequencer_http = node_urls(seq_name, seq_ns, seq_spec).geth_http
            if spec.op_node.p2p.enabled and seq_spec.op_node.p2p.enabled:
                peer_id = ((seq.get("status") or {}).get("nodeInfo") or {}).get("peerID")
                if not peer_id:
                    raise fail(
                        "SequencerNotReady",
                        f"spec.sequencerRef: OpNode {seq_name} has not published its P2P peer id yet "
                        "(status.nodeInfo.peerID)",
                    )
                static = (static_peer(seq_name, seq_ns, seq_spec, str(peer_id)),)
        elif spec.node_type == "replica" and spec.op_geth.rollup.sequencer_http is None:
            sequencer_http = facts.public_sequencer_url
        advertise: int | None = None
        if spec.service.p2p.enabled and spec.replicas == 1:
            # Peers must be told the port reachable from outside: the NodePort of the P2P Service. The
            # Service is applied before the StatefulSet is rendered, so the first pod advertises it already.
            owner = Owner.of(node)
            svc = self._apply_one(owner, opnode_p2p_services(owner, spec, facts)[0], resolved)
            for port in (svc.get("spec") or {}).get("ports") or ():
                if port.get("name") == "node-p2p" and port.get("nodePort"):
                    advertise = int(port["nodePort"])
        return OpNodeInputs(
            secrets=secrets, static_peers=static, p2p_advertise_port=advertise, sequencer_http=sequencer_http
        )

    # -- 4. children

    @staticmethod
    def _images(spec: OpNodeSpec | None) -> tuple[str, str]:
        if spec is None:
            return ("", "")
        return node_images(spec.images.op_node, spec.images.op_geth)

    def _desired(self, node: Mapping[str, Any], owner: Owner, resolved: _Resolved) -> list[dict[str, Any]]:
        spec, facts, inputs = resolved.spec, resolved.facts, resolved.inputs
        assert spec is not None and facts is not None and inputs is not None

        def fail(reason: str, message: str) -> Blocked:
            return Blocked(Condition(CONDITION_CONFIGURATION_VALID, FALSE, reason, message))

        if len(owner.name) > 47:
            raise fail(
                "NameTooLong",
                f"metadata.name {owner.name!r} has {len(owner.name)} characters; OpNode names must have at "
                "most 47 (its pods, Services and revision labels append suffixes); recreate it with a "
                "shorter name",
            )
        node_image, geth_image = self._images(spec)
        mismatch = check_pair(node_image, geth_image)
        if mismatch is not None:
            raise fail("ImagesMismatch", f"spec.images: {mismatch}")
        claim: str | None = None
        with contextlib.suppress(errors.NotFound):
            current = self.cache.get(STATEFULSET, owner.name, owner.namespace)
            for tpl in (current.get("spec") or {}).get("volumeClaimTemplates") or ():
                claim = ((tpl.get("spec") or {}).get("resources") or {}).get("requests", {}).get("storage")
        try:
            objs = [
                opnode_statefulset(owner, spec, facts, inputs, resolved.referenced, claim_storage=claim),
                opnode_service(owner, spec, facts),
                opnode_headless_service(owner, spec, facts),
                *opnode_p2p_services(owner, spec, facts),
            ]
            pdb = opnode_pdb(owner, spec, facts)
        except ComponentConfigError as exc:
            raise fail("RenderFailed", str(exc)) from None
        if pdb is not None:
            objs.append(pdb)
        return objs

    def _apply_one(self, owner: Owner, obj: dict[str, Any], resolved: _Resolved) -> Mapping[str, Any]:
        """Server-side apply `obj` unless the cached object (or the one this reconcile applied) already
        holds it; returns the object as the API server has it."""
        gvk = GVK.from_object(obj)
        name = obj["metadata"]["name"]
        current: Mapping[str, Any] | None = resolved.applied.get((obj["kind"], name))
        if current is None:
            with contextlib.suppress(errors.NotFound):
                current = self.cache.get(gvk, name, owner.namespace)
        try:
            applied = self._applier.apply(owner, obj, current)
        except NameConflict as exc:
            raise Blocked(Condition(CONDITION_CONFIGURATION_VALID, FALSE, exc.reason, str(exc))) from None
        except ChildRejected as exc:
            hint = "volume claims come from spec.opGeth.storage.size, container resources from spec.resources"
            raise Blocked(
                Condition(CONDITION_CONFIGURATION_VALID, FALSE, exc.reason, f"{exc} ({hint})")
            ) from None
        resolved.applied[(obj["kind"], name)] = applied
        return applied

    def _apply(
        self, node: Mapping[str, Any], owner: Owner, desired: list[dict[str, Any]], resolved: _Resolved
    ) -> None:
        wanted: set[tuple[str, str]] = set()
        for obj in sorted(desired, key=lambda o: o["kind"] == "StatefulSet"):
            wanted.add((obj["kind"], obj["metadata"]["name"]))
            self._apply_one(owner, obj, resolved)
        # Children no longer wanted (P2P Services of removed pods, a PDB of a node scaled to one pod).
        for gvk in (SERVICE, PDB):
            for child in self.cache.list(gvk, owner.namespace, index=(OWNER_UID_INDEX, owner.uid)):
                name = child["metadata"]["name"]
                if (gvk.kind, name) in wanted or not controlled_by(child, owner):
                    continue
                with contextlib.suppress(errors.NotFound):
                    self.client.delete(
                        gvk, name, owner.namespace, preconditions={"uid": child["metadata"]["uid"]}
                    )
                log.info("deleted", opnode=owner.name, namespace=owner.namespace, kind=gvk.kind, name=name)

    # -- 5. workload

    def _workload(self, node: Mapping[str, Any]) -> tuple[Mapping[str, Any] | None, list[Mapping[str, Any]]]:
        meta = node["metadata"]
        try:
            sts: Mapping[str, Any] | None = self.cache.get(STATEFULSET, meta["name"], meta["namespace"])
        except errors.NotFound:
            return None, []
        if sts is None or not controlled_by(sts, Owner.of(node)):
            return None, []
        uid = sts["metadata"].get("uid")
        pods = self.cache.list(POD, meta["namespace"], index=(OWNER_UID_INDEX, uid))
        return sts, pods

    # -- 6. node RPC

    def _read_rpc(
        self, node: Mapping[str, Any], resolved: _Resolved, workload: Condition, requeue: list[float]
    ) -> NodeReport | None:
        key = f"{node['metadata']['namespace']}/{node['metadata']['name']}"
        spec = resolved.spec
        if not self.settings.read_node_rpc or spec is None or workload.status != TRUE:
            with self._lock:
                self._rpc.pop(key, None)
            return None
        endpoints = self.settings.endpoints or node_urls
        urls = endpoints(str(node["metadata"]["name"]), str(node["metadata"]["namespace"]), spec)
        geth_url = urls.geth_http if spec.op_geth.networking.http.enabled else None
        uid = str(node["metadata"].get("uid"))
        now = self.monotonic()
        with self._lock:
            record = self._rpc.get(key)
        if record is not None and record.uid == uid and record.urls == (urls.op_node_rpc, geth_url):
            interval = (
                self.settings.status_interval
                if record.report.reachable
                else self.settings.unreachable_interval
            )
            due_in = record.checked_at + interval - now
            if due_in > 0.05:
                requeue.append(due_in)
                return record.report
        report = read_node(
            urls.op_node_rpc,
            geth_url,
            timeout=self.settings.rpc_timeout,
            p2p_enabled=spec.op_node.p2p.enabled,
        )
        with self._lock:
            self._rpc[key] = RpcRecord(uid, (urls.op_node_rpc, geth_url), self.monotonic(), report)
        requeue.append(
            self.settings.status_interval if report.reachable else self.settings.unreachable_interval
        )
        return report

    def _rpc_conditions(
        self, conditions: ConditionSet, report: NodeReport | None, resolved: _Resolved, workload: Condition
    ) -> None:
        if report is None:
            why = (
                "reading the node's RPC is disabled"
                if not self.settings.read_node_rpc
                else f"read once the workload is ready ({workload.reason})"
            )
            conditions.set(Condition(CONDITION_NODE_REACHABLE, UNKNOWN, "NotChecked", why))
            conditions.set(Condition(CONDITION_SYNCING, UNKNOWN, "NotChecked", why))
            return
        errors_ = [e for e in (report.geth_error, report.op_node_error) if e is not None]
        if not errors_:
            conditions.set(
                Condition(
                    CONDITION_NODE_REACHABLE, TRUE, "Reachable", "op-node and op-geth answer status calls"
                )
            )
        else:
            hint = (
                "; the operator reads the node through its Service (in-cluster DNS): an operator running "
                "outside the cluster cannot reach it, status.nodeInfo then stays empty"
                if any(e.kind in ("Unreachable", "Timeout") for e in errors_)
                else ""
            )
            answered = (
                " (op-geth answers)" if report.geth_error is None and report.geth_head is not None else ""
            )
            conditions.set(
                Condition(
                    CONDITION_NODE_REACHABLE,
                    FALSE,
                    errors_[0].reason,
                    "; ".join(str(e) for e in errors_) + answered + hint,
                )
            )
        state = syncing_state(report, self.settings.syncing_l1_lag)
        if state is None:
            conditions.set(
                Condition(
                    CONDITION_SYNCING, UNKNOWN, "Unknown", "the node's RPC did not tell (see NodeReachable)"
                )
            )
        else:
            syncing, why = state
            conditions.set(
                Condition(
                    CONDITION_SYNCING, TRUE if syncing else FALSE, "Syncing" if syncing else "CaughtUp", why
                )
            )

    def _node_info(
        self, stored: Mapping[str, Any], report: NodeReport | None, resolved: _Resolved
    ) -> dict[str, Any]:
        info: dict[str, Any] = node_info_from(report) if report is not None else {}
        if not info and report is None:
            # Not read this time (not ready / not due): keep what was last read.
            info = {k: v for k, v in thaw(stored).items() if k not in ("peerID", "lastUpdated")}
        if resolved.peer_id is not None:
            info["peerID"] = resolved.peer_id
        elif (resolved.spec is None or resolved.secrets is None) and stored.get("peerID"):
            info["peerID"] = stored["peerID"]
        comparable = {k: v for k, v in thaw(stored).items() if k != "lastUpdated"}
        if _prune(info) == _prune(comparable):
            if stored.get("lastUpdated"):
                info["lastUpdated"] = stored["lastUpdated"]
        elif report is not None and any(k not in ("peerID",) for k in _prune(info)):
            info["lastUpdated"] = rfc3339(report.checked_at)
        return info

    # -- events

    def _record_events(self, node: Mapping[str, Any], conditions: ConditionSet, types: Iterable[str]) -> None:
        for type_ in types:
            cond = conditions.get(type_)
            if cond is not None and cond.get("status") == FALSE and conditions.changed(type_):
                if type_ == CONDITION_WORKLOAD_READY and cond.get("reason") in (
                    "NotCreated",
                    "PodsNotCreated",
                    "PodsStarting",
                    "RolloutInProgress",
                ):
                    continue  # progress, not a problem
                self.recorder.event(node, WARNING, str(cond["reason"]), str(cond["message"]))
        if conditions.status(CONDITION_READY) == TRUE and conditions.flipped(CONDITION_READY):
            self.recorder.event(node, NORMAL, "Ready", "the node runs: all pods ready")


# --- wiring ------------------------------------------------------------------------------------------------


def register_indexes(cache: Any) -> None:
    informer = cache.informer_for(OPNODE)
    for name, fn in ((SEQUENCER_REF_INDEX, index_sequencer_ref), (SECRET_REFS, referenced_secrets)):
        if name not in informer.indexer.index_names():
            with contextlib.suppress(ValueError):
                informer.add_indexer(name, fn)
    network = cache.informer_for(NETWORK)
    for name, fn in ((CONFIG_MAP_REFS_INDEX, index_config_map_refs), (SECRET_REFS_INDEX, index_secret_refs)):
        if name not in network.indexer.index_names():
            with contextlib.suppress(ValueError):
                network.add_indexer(name, fn)
    register_network_ref_index(cache)


def setup(mgr: Any, settings: Settings | None = None, *, max_concurrent_reconciles: int = 2) -> Controller:
    """Wire the OpNode controller into `mgr`; returns the controller."""
    reconciler = OpNodeReconciler(mgr.client, mgr.cache, mgr.event_recorder(CONTROLLER_NAME), settings)
    register_indexes(mgr.cache)
    # Pods are only read, to judge our StatefulSets' pods: cache ours, not every Pod of the cluster. (Kinds
    # the controller applies stay cached whole: a same-named object of someone else must be seen.)
    mgr.cache.restrict(POD, MANAGED_SELECTOR)
    return (
        ControllerBuilder(mgr)
        .named(CONTROLLER_NAME)
        # Status writes do not bump the generation: the controller does not wake itself up.
        .for_(OPNODE, predicates=[GenerationChangedPredicate()])
        .owns(STATEFULSET)
        .owns(SERVICE)
        .owns(SECRET)
        .owns(PDB)
        .watches(NETWORK, EnqueueRequestsFromMapFunc(reconciler.nodes_of_network))
        # The sequencer a replica follows (its status carries the peer id the replica needs).
        .watches(OPNODE, EnqueueRequestsFromMapFunc(reconciler.replicas_of_sequencer))
        .watches(SECRET, EnqueueRequestsFromMapFunc(reconciler.nodes_of_secret))
        .watches(CONFIG_MAP, EnqueueRequestsFromMapFunc(reconciler.nodes_of_config_map))
        .watches(POD, EnqueueRequestsFromMapFunc(reconciler.node_of_pod))
        .with_options(max_concurrent_reconciles=max_concurrent_reconciles)
        .complete(reconciler)
    )


__all__ = [
    "CONTROLLER_NAME",
    "FIELD_MANAGER",
    "OPNODE",
    "OpNodeReconciler",
    "Settings",
    "node_info_from",
    "setup",
    "syncing_state",
    "workload_condition",
]
