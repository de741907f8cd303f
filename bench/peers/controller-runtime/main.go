// The controller-runtime peer of the OpNode benchmark (see bench/README.md).
//
// `operator`: a controller-runtime operator that reconciles OpNodes the way opstack's OpNode controller does
// for the benchmark's workload: it creates the JWT and P2P Secrets once, server-side applies the two
// Services and the StatefulSet when the cached ones differ, and writes status (observedGeneration and a
// Ready condition from the StatefulSet) when it differs. The children are not rendered here: the Python
// driver renders them with opstack's builders into one JSON file per OpNode and generation
// (<renders>/<name>.json, one variant per value of the changed field), so that the writes are byte-for-byte those of our builders.
//
// `floor`: a load generator issuing the same writes with the same concurrency, without watching or reading.
//
// Every reconcile start is logged (name, generation, the driver's stamp annotation, now) to --latency-log.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"go.uber.org/zap/zapcore"
)

const (
	fieldManager    = "opstack-opnode"
	stampAnnotation = "bench.opstack.io/stamp"
	hashAnnotation  = "optimism.optimism.io/config-hash"
	ownerUID        = "OWNER-UID" // placeholder in the pre-rendered children
)

var (
	opNodeGVK = schema.GroupVersionKind{Group: "optimism.optimism.io", Version: "v1alpha1", Kind: "OpNode"}
	secretGVK = schema.GroupVersionKind{Version: "v1", Kind: "Secret"}
	svcGVK    = schema.GroupVersionKind{Version: "v1", Kind: "Service"}
	stsGVK    = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "StatefulSet"}
)

// rendered is what the driver wrote for one OpNode and generation.
type rendered struct {
	Secrets []map[string]any `json:"secrets"`
	Apply   []map[string]any `json:"apply"`
}

// renderKey: which pre-rendered variant the OpNode's spec selects (the value of the changed field).
func renderKey(node *unstructured.Unstructured) string {
	v, _, _ := unstructured.NestedString(node.Object, "spec", "resources", "opNode", "requests", "cpu")
	return v
}

func loadRender(dir, name, key string) (*rendered, error) {
	raw, err := os.ReadFile(filepath.Join(dir, name+".json"))
	if err != nil {
		return nil, err
	}
	var all map[string]*rendered
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, err
	}
	r, ok := all[key]
	if !ok {
		return nil, fmt.Errorf("no render of %s for %q", name, key)
	}
	return r, nil
}

func owned(obj map[string]any, uid types.UID) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: obj}
	refs := u.GetOwnerReferences()
	for i := range refs {
		if string(refs[i].UID) == ownerUID {
			refs[i].UID = uid
		}
	}
	u.SetOwnerReferences(refs)
	return u
}

// isSubset: every field of desired is in actual with the same value (lists element by element).
func isSubset(desired, actual any) bool {
	switch d := desired.(type) {
	case map[string]any:
		a, ok := actual.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range d {
			av, ok := a[k]
			if !ok || !isSubset(v, av) {
				return false
			}
		}
		return true
	case []any:
		a, ok := actual.([]any)
		if !ok || len(a) != len(d) {
			return false
		}
		for i := range d {
			if !isSubset(d[i], a[i]) {
				return false
			}
		}
		return true
	default:
		// JSON numbers: the driver's files decode to float64, the cache's objects to int64.
		if df, ok := toFloat(desired); ok {
			af, ok := toFloat(actual)
			return ok && df == af
		}
		return reflect.DeepEqual(desired, actual)
	}
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	}
	return 0, false
}

func templateHash(obj map[string]any) string {
	h, _, _ := unstructured.NestedString(obj, "spec", "template", "metadata", "annotations", hashAnnotation)
	return h
}

// upToDate mirrors opstack's child_up_to_date: a StatefulSet by its template hash plus the fields outside
// the template, anything else by a subset comparison.
func upToDate(desired, current map[string]any) bool {
	if desired["kind"] == "StatefulSet" {
		if templateHash(desired) != templateHash(current) {
			return false
		}
		spec, _ := desired["spec"].(map[string]any)
		curSpec, _ := current["spec"].(map[string]any)
		for k, v := range spec {
			if k == "template" || k == "volumeClaimTemplates" {
				continue
			}
			if !isSubset(v, curSpec[k]) {
				return false
			}
		}
		for k, v := range desired {
			if k != "spec" && !isSubset(v, current[k]) {
				return false
			}
		}
		return true
	}
	return isSubset(desired, current)
}

// readyCondition: Ready from the StatefulSet (the benchmark's definition, the same for every contender).
func readyCondition(sts *unstructured.Unstructured, generation int64) map[string]any {
	cond := map[string]any{"type": "Ready", "observedGeneration": generation}
	if sts == nil {
		cond["status"], cond["reason"], cond["message"] = "False", "NotCreated", "the StatefulSet is not created yet"
		return cond
	}
	want, found, _ := unstructured.NestedInt64(sts.Object, "spec", "replicas")
	if !found {
		want = 1
	}
	ready, _, _ := unstructured.NestedInt64(sts.Object, "status", "readyReplicas")
	observed, _, _ := unstructured.NestedInt64(sts.Object, "status", "observedGeneration")
	if ready >= want && observed == sts.GetGeneration() {
		cond["status"], cond["reason"] = "True", "AllReplicasReady"
	} else {
		cond["status"], cond["reason"] = "False", "PodsNotReady"
	}
	cond["message"] = fmt.Sprintf("%d/%d pods ready", ready, want)
	return cond
}

// withTransitionTime keeps the stored transition time while the condition's status holds.
func withTransitionTime(cond map[string]any, stored []any) map[string]any {
	cond["lastTransitionTime"] = time.Now().UTC().Format(time.RFC3339)
	for _, s := range stored {
		if sm, ok := s.(map[string]any); ok && sm["type"] == cond["type"] && sm["status"] == cond["status"] {
			cond["lastTransitionTime"] = sm["lastTransitionTime"]
		}
	}
	return cond
}

// latencyLog appends "name generation stamp now" lines (unix seconds).
type latencyLog struct {
	mu sync.Mutex
	w  *bufio.Writer
	f  *os.File
}

func (l *latencyLog) record(name string, generation int64, stamp string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s %d %s %.6f\n", name, generation, orDash(stamp), float64(now.UnixNano())/1e9)
	_ = l.w.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

type reconciler struct {
	client.Client
	renders string
	latency *latencyLog
}

func (r *reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	start := time.Now()
	node := &unstructured.Unstructured{}
	node.SetGroupVersionKind(opNodeGVK)
	if err := r.Get(ctx, req.NamespacedName, node); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	r.latency.record(node.GetName(), node.GetGeneration(), node.GetAnnotations()[stampAnnotation], start)
	if node.GetDeletionTimestamp() != nil {
		return ctrl.Result{}, nil
	}
	desired, err := loadRender(r.renders, node.GetName(), renderKey(node))
	if err != nil {
		return ctrl.Result{}, err
	}
	for _, obj := range desired.Secrets {
		secret := owned(obj, node.GetUID())
		current := &unstructured.Unstructured{}
		current.SetGroupVersionKind(secretGVK)
		err := r.Get(ctx, client.ObjectKeyFromObject(secret), current)
		if apierrors.IsNotFound(err) {
			err = r.Create(ctx, secret, client.FieldOwner(fieldManager))
			if apierrors.IsAlreadyExists(err) {
				err = nil
			}
		}
		if err != nil {
			return ctrl.Result{}, err
		}
	}
	var sts *unstructured.Unstructured
	for _, obj := range desired.Apply {
		want := owned(obj, node.GetUID())
		current := &unstructured.Unstructured{}
		current.SetGroupVersionKind(want.GroupVersionKind())
		err := r.Get(ctx, client.ObjectKeyFromObject(want), current)
		if err != nil && !apierrors.IsNotFound(err) {
			return ctrl.Result{}, err
		}
		result := current
		if err != nil || !upToDate(want.Object, current.Object) {
			if err := r.Apply(ctx, client.ApplyConfigurationFromUnstructured(want), client.FieldOwner(fieldManager), client.ForceOwnership); err != nil {
				return ctrl.Result{}, err
			}
			result = want // Apply decodes the server's answer into want
		}
		if result.GetKind() == "StatefulSet" {
			sts = result
		}
	}
	stored, _, _ := unstructured.NestedSlice(node.Object, "status", "conditions")
	cond := withTransitionTime(readyCondition(sts, node.GetGeneration()), stored)
	status := map[string]any{"observedGeneration": node.GetGeneration(), "conditions": []any{cond}}
	current, _, _ := unstructured.NestedMap(node.Object, "status")
	if !isSubset(status, current) || len(current) != len(status) {
		node.Object["status"] = status
		if err := r.Status().Update(ctx, node, client.FieldOwner(fieldManager)); err != nil {
			if apierrors.IsConflict(err) {
				return ctrl.Result{RequeueAfter: 200 * time.Millisecond}, nil
			}
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{}, nil
}

func unstructuredOf(gvk schema.GroupVersionKind) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	return u
}

func runOperator(renders string, workers int, latencyPath, namespace string) error {
	f, err := os.OpenFile(latencyPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	lat := &latencyLog{w: bufio.NewWriter(f), f: f}
	cfg := ctrl.GetConfigOrDie()
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  cache.Options{DefaultNamespaces: map[string]cache.Config{namespace: {}}},
		// Reads of unstructured objects from the informer cache, as for typed ones.
		Client: client.Options{Cache: &client.CacheOptions{Unstructured: true}},
	})
	if err != nil {
		return err
	}
	r := &reconciler{Client: mgr.GetClient(), renders: renders, latency: lat}
	err = ctrl.NewControllerManagedBy(mgr).
		Named("opnode").
		For(unstructuredOf(opNodeGVK), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Owns(unstructuredOf(secretGVK)).
		Owns(unstructuredOf(svcGVK)).
		Owns(unstructuredOf(stsGVK)).
		WithOptions(controller.Options{MaxConcurrentReconciles: workers}).
		Complete(r)
	if err != nil {
		return err
	}
	return mgr.Start(ctrl.SetupSignalHandler())
}

// --- the floor -----------------------------------------------------------------------------------------

type floorItem struct {
	OpNode map[string]any `json:"opnode"` // converge: the OpNode to create
	Patch  map[string]any `json:"patch"`  // change: the merge patch of the OpNode's spec
}

func runFloor(renders, phase, namespace string, names []string, workers int) error {
	cfg := ctrl.GetConfigOrDie()
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		return err
	}
	ctx := context.Background()
	var next atomic.Int64
	var failed atomic.Int64
	var firstErr atomic.Value
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(names) {
					return
				}
				if err := floorOne(ctx, c, renders, phase, namespace, names[i]); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	wg.Wait()
	out := map[string]any{"seconds": time.Since(start).Seconds(), "failed": failed.Load()}
	if e := firstErr.Load(); e != nil {
		out["error"] = e
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

func floorOne(ctx context.Context, c client.Client, renders, phase, namespace, name string) error {
	raw, err := os.ReadFile(filepath.Join(renders, name+".floor.json"))
	if err != nil {
		return err
	}
	var item floorItem
	if err := json.Unmarshal(raw, &item); err != nil {
		return err
	}
	node := &unstructured.Unstructured{}
	generation := int64(1)
	if phase == "converge" {
		node.Object = item.OpNode
		if err := c.Create(ctx, node); err != nil {
			return err
		}
	} else {
		node.SetGroupVersionKind(opNodeGVK)
		node.SetNamespace(namespace)
		node.SetName(name)
		patch, _ := json.Marshal(item.Patch)
		if err := c.Patch(ctx, node, client.RawPatch(types.MergePatchType, patch)); err != nil {
			return err
		}
		generation = node.GetGeneration()
	}
	desired, err := loadRender(renders, name, renderKey(node))
	if err != nil {
		return err
	}
	if phase == "converge" {
		for _, obj := range desired.Secrets {
			if err := c.Create(ctx, owned(obj, node.GetUID()), client.FieldOwner(fieldManager)); err != nil {
				return err
			}
		}
	}
	var sts *unstructured.Unstructured
	for _, obj := range desired.Apply {
		want := owned(obj, node.GetUID())
		if phase == "change" && want.GetKind() != "StatefulSet" {
			continue // only the StatefulSet changes
		}
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(want), client.FieldOwner(fieldManager), client.ForceOwnership); err != nil {
			return err
		}
		if want.GetKind() == "StatefulSet" {
			sts = want
		}
	}
	if phase == "converge" {
		cond := withTransitionTime(readyCondition(sts, generation), nil)
		body, _ := json.Marshal(map[string]any{"status": map[string]any{
			"observedGeneration": generation, "conditions": []any{cond},
		}})
		if err := c.Status().Patch(ctx, node, client.RawPatch(types.MergePatchType, body)); err != nil {
			return err
		}
	}
	return nil
}

func main() {
	mode := flag.String("mode", "operator", "operator or floor")
	renders := flag.String("renders", "", "folder of the pre-rendered children (<name>.json)")
	workers := flag.Int("workers", 4, "concurrent reconciles (operator) or writers (floor)")
	latencyPath := flag.String("latency-log", "latency.log", "reconcile-start log (operator)")
	phase := flag.String("phase", "converge", "floor: converge or change")
	namespace := flag.String("namespace", "", "namespace of the OpNodes (the operator watches only it)")
	namesFile := flag.String("names", "", "floor: file with one OpNode name per line")
	flag.Parse()
	log.SetLogger(zap.New(zap.UseDevMode(false), zap.Level(zapcore.ErrorLevel)))
	var err error
	switch *mode {
	case "operator":
		err = runOperator(*renders, *workers, *latencyPath, *namespace)
	case "floor":
		var raw []byte
		raw, err = os.ReadFile(*namesFile)
		if err == nil {
			var names []string
			for _, line := range splitLines(string(raw)) {
				if line != "" {
					names = append(names, line)
				}
			}
			err = runFloor(*renders, *phase, *namespace, names, *workers)
		}
	default:
		err = fmt.Errorf("unknown mode %q", *mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
