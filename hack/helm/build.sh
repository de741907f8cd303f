#!/usr/bin/env bash
# Builds (or finds) helm, for the chart tests (`helm lint`, `helm template`), from the wrapper module beside
# this script, into the cache root the control-plane binaries use (hack/envtest/build.sh):
#   ${OPSTACK_ENVTEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/opstack/envtest}/helm-<version>/helm
# HELM, when set, names a helm binary to use instead. The last line printed is the binary's path.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${HELM:-}" ]; then
  [ -x "$HELM" ] || { echo "HELM=$HELM is not an executable" >&2; exit 1; }
  echo "$HELM"; exit 0
fi

version=$(sed -n 's|^require helm.sh/helm/v4 \(v[^ ]*\)$|\1|p' "$here/go.mod")
cache=${OPSTACK_ENVTEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/opstack/envtest}
dest="$cache/helm-$version"
if [ -x "$dest/helm" ]; then echo "$dest/helm"; exit 0; fi

mkdir -p "$dest"
export CGO_ENABLED=0 GOFLAGS=-mod=mod
log="$dest/build.log"; : > "$log"
start=$(date +%s)
timer=""; [ -x /usr/bin/time ] && timer="/usr/bin/time -f maxrss_kb=%M"
echo ">> building helm $version" | tee -a "$log" >&2
# Version stamps as helm's Makefile sets them, so `helm version` reports the release.
ldflags="-s -w -X helm.sh/helm/v4/internal/version.version=$version"
(cd "$here" && $timer go build -trimpath -ldflags "$ldflags" -o "$dest/helm.tmp" helm.sh/helm/v4/cmd/helm) \
  2>>"$log" || { tail -30 "$log" >&2; exit 1; }
mv "$dest/helm.tmp" "$dest/helm"
echo "helm seconds=$(( $(date +%s) - start ))" >>"$log"
echo "$dest/helm"
