# opstack-operator. `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
PYTEST ?= $(PYTHON) -m pytest
PYTEST_ARGS ?=
STAMP := .make
IMG ?= opstack-operator:dev
CONTAINER_TOOL ?= docker
# kubectl for install/deploy: the one on PATH, else the one built beside the local control plane.
KUBECTL ?= $(shell command -v kubectl 2>/dev/null || echo "$$(bash hack/envtest/build.sh | tail -1)/kubectl")
KUSTOMIZE_DIR ?= config/default

##@ Development

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

$(STAMP)/install: pyproject.toml
	$(PYTHON) -m pip install --disable-pip-version-check -q -e '.[dev]'
	@mkdir -p $(STAMP) && touch $@

.PHONY: install-deps
install-deps: $(STAMP)/install ## Install the package and its development dependencies (editable).

.PHONY: lint
lint: $(STAMP)/install ## ruff check, ruff format --check, mypy.
	$(PYTHON) -m ruff check opstack test bench
	$(PYTHON) -m ruff format --check opstack test bench
	$(PYTHON) -m mypy

.PHONY: fmt
fmt: $(STAMP)/install ## Format and fix what ruff can.
	$(PYTHON) -m ruff check --fix opstack test bench
	$(PYTHON) -m ruff format opstack test bench

.PHONY: manifests
manifests: $(STAMP)/install ## Generate config/crd and config/rbac from opstack/api and the controllers' RBAC rules; sync the Helm chart.
	$(PYTHON) -m opstack.api.generate
	$(PYTHON) hack/helm/sync_chart.py

.PHONY: manifests-check
manifests-check: $(STAMP)/install ## Fail when config/crd, config/rbac or the chart differ from what the code generates.
	$(PYTHON) -m opstack.api.generate --check
	$(PYTHON) hack/helm/sync_chart.py --check

.PHONY: dev
dev: $(STAMP)/install envtest ## The operator on an embedded control plane (kwok) with anvil as L1 and the sample devnet. Ctrl-C stops all.
	exec $(PYTHON) -m opstack.dev

.PHONY: run
run: $(STAMP)/install ## Run the operator against the current kubeconfig (console logs).
	exec $(PYTHON) -m opstack --log-format console $(RUN_ARGS)

.PHONY: helm
helm: ## Build (or find) helm from Go modules (hack/helm); print its path.
	@bash hack/helm/build.sh

.PHONY: envtest
envtest: ## Build (or find) kube-apiserver, etcd, kubectl, kube-controller-manager, kube-scheduler, kwok; print the folder.
	@bash hack/envtest/build.sh

##@ Test

.PHONY: test
test: $(STAMP)/install envtest helm ## Unit and integration tests against a real local control plane.
	$(PYTEST) test/unit test/integration $(PYTEST_ARGS)

.PHONY: test-unit
test-unit: $(STAMP)/install ## Unit tests only (no processes).
	$(PYTEST) test/unit $(PYTEST_ARGS)

.PHONY: test-integration
test-integration: $(STAMP)/install envtest helm ## Integration tests against a real local control plane.
	$(PYTEST) test/integration $(PYTEST_ARGS)

.PHONY: test-reliability
test-reliability: $(STAMP)/install envtest ## Reliability and security scenarios at full size (faults, failover, bad input; minutes).
	OPSTACK_RELIABILITY_SCALE=full $(PYTEST) test/reliability -s --timeout 1800 $(PYTEST_ARGS)

.PHONY: test-e2e
test-e2e: $(STAMP)/install ## The integration suite against the current kubeconfig's cluster.
	USE_EXISTING_CLUSTER=true $(PYTEST) test/integration test/e2e $(PYTEST_ARGS)

##@ Build

.PHONY: wheel
wheel: $(STAMP)/install ## Build the wheel into dist/.
	$(PYTHON) -m pip wheel --no-deps --disable-pip-version-check -q -w dist .

.PHONY: docker-build
docker-build: ## Build the operator image (IMG=opstack-operator:dev; CONTAINER_TOOL=docker or podman).
	$(CONTAINER_TOOL) build -t $(IMG) .

.PHONY: docker-push
docker-push: ## Push the operator image.
	$(CONTAINER_TOOL) push $(IMG)

##@ Deployment

.PHONY: install
install: ## Install the CRDs into the cluster of the current kubeconfig.
	$(KUBECTL) apply --server-side -k config/crd

.PHONY: uninstall
uninstall: ## Remove the CRDs (and with them every custom resource) from the cluster.
	$(KUBECTL) delete --ignore-not-found -k config/crd

.PHONY: deploy
deploy: ## Deploy the operator (CRDs, RBAC, manager, metrics Service) with kustomize: kubectl apply -k config/default.
	$(KUBECTL) apply --server-side -k $(KUSTOMIZE_DIR)

.PHONY: undeploy
undeploy: ## Remove what `make deploy` created.
	$(KUBECTL) delete --ignore-not-found -k $(KUSTOMIZE_DIR)

##@ Benchmarks

BENCH_ARGS ?=

.PHONY: bench
bench: $(STAMP)/install envtest ## OpNode benchmark against kopf, controller-runtime and the floor (BENCH_ARGS=--quick).
	$(PYTHON) -m pip install --disable-pip-version-check -q -e '.[dev,bench]'
	$(PYTHON) bench/bench_opnode.py $(BENCH_ARGS)
	$(PYTHON) bench/plot_opnode.py
