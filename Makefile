# opstack-operator. `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
PYTEST ?= $(PYTHON) -m pytest
PYTEST_ARGS ?=
STAMP := .make

##@ Development

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

$(STAMP)/install: pyproject.toml
	$(PYTHON) -m pip install --disable-pip-version-check -q -e '.[dev]'
	@mkdir -p $(STAMP) && touch $@

.PHONY: install
install: $(STAMP)/install ## Install the package and its development dependencies (editable).

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
manifests: $(STAMP)/install ## Generate config/crd and config/rbac from opstack/api and the controllers' RBAC rules.
	$(PYTHON) -m opstack.api.generate

.PHONY: manifests-check
manifests-check: $(STAMP)/install ## Fail when config/crd or config/rbac differ from what the models generate.
	$(PYTHON) -m opstack.api.generate --check

.PHONY: envtest
envtest: ## Build (or find) kube-apiserver, etcd, kubectl, kube-controller-manager, kube-scheduler, kwok; print the folder.
	@bash hack/envtest/build.sh

##@ Test

.PHONY: test
test: $(STAMP)/install envtest ## Unit and integration tests against a real local control plane.
	$(PYTEST) test/unit test/integration $(PYTEST_ARGS)

.PHONY: test-unit
test-unit: $(STAMP)/install ## Unit tests only (no processes).
	$(PYTEST) test/unit $(PYTEST_ARGS)

.PHONY: test-integration
test-integration: $(STAMP)/install envtest ## Integration tests against a real local control plane.
	$(PYTEST) test/integration $(PYTEST_ARGS)

.PHONY: test-e2e
test-e2e: $(STAMP)/install ## The integration suite against the current kubeconfig's cluster.
	USE_EXISTING_CLUSTER=true $(PYTEST) test/integration test/e2e $(PYTEST_ARGS)
