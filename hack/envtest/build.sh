#!/usr/bin/env bash
# Builds (or finds) the control-plane binaries the tests and `make dev` run:
# kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd and kwok.
#
# Order of precedence, as envtest has it:
#   1. KUBEBUILDER_ASSETS, when set, names a folder that already holds the binaries;
#   2. the cache folder keyed by the pinned versions, when every binary is present;
#   3. otherwise `go build` from the wrapper modules beside this script into that folder.
# The last line printed is always the folder.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bins=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok)

modver() { sed -n "s|^require $1 \(v[^ ]*\)$|\1|p" "$here/$2/go.mod"; }
K8S_VERSION=$(modver k8s.io/kubernetes kubernetes)
ETCD_VERSION=$(modver go.etcd.io/etcd/server/v3 etcd)
KWOK_VERSION=$(modver sigs.k8s.io/kwok kwok)

complete() { local d=$1 b; for b in "${bins[@]}"; do [ -x "$d/$b" ] || return 1; done; }

if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then
  complete "$KUBEBUILDER_ASSETS" || { echo "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS lacks one of: ${bins[*]}" >&2; exit 1; }
  echo "$KUBEBUILDER_ASSETS"; exit 0
fi

cache=${OPSTACK_ENVTEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/opstack/envtest}
dest="$cache/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION"
if complete "$dest"; then echo "$dest"; exit 0; fi

mkdir -p "$dest"
export CGO_ENABLED=0 GOFLAGS=-mod=mod
log="$dest/build.log"; : > "$log"
start=$(date +%s)

# Version stamps, as hack/lib/version.sh sets them, into both packages that report a version.
minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
k8s_ldflags="-s -w"
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  k8s_ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  k8s_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

# Peak memory goes to the log when GNU time is installed (Debian package "time").
timer=""; [ -x /usr/bin/time ] && timer="/usr/bin/time -f maxrss_kb=%M"

build() { # module, output name, package, ldflags
  local t0=$(date +%s)
  echo ">> building $2 ($3)" | tee -a "$log" >&2
  (cd "$here/$1" && $timer go build -trimpath -tags selinux,notest,grpcnotrace \
      -ldflags "$4" -o "$dest/$2.tmp" "$3") 2>>"$log" || { tail -30 "$log" >&2; exit 1; }
  mv "$dest/$2.tmp" "$dest/$2"
  echo "$2 seconds=$(( $(date +%s) - t0 ))" >>"$log"
}

build etcd etcd go.etcd.io/etcd/server/v3 "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION"
build kwok kwok sigs.k8s.io/kwok/cmd/kwok "-s -w"
# kwok does nothing without Stage objects; take the default ones kwokctl uses from the kwok module itself.
kwok_dir=$(cd "$here/kwok" && go mod download -json sigs.k8s.io/kwok | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
mkdir -p "$dest/kwok-stages"
cp "$kwok_dir"/kustomize/stage/node/fast/node-initialize.yaml \
   "$kwok_dir"/kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
   "$kwok_dir"/kustomize/stage/pod/fast/pod-{ready,complete,delete}.yaml "$dest/kwok-stages/"
chmod u+w "$dest"/kwok-stages/*
for b in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  build kubernetes "$b" "k8s.io/kubernetes/cmd/$b" "$k8s_ldflags"
done
echo "total seconds=$(( $(date +%s) - start ))" >>"$log"
echo "$dest"
