# DataLake FB platform: the two commands are `make lab` and `make test` (see README.md).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

export DLFB_CACHE ?= $(HOME)/.cache/datalake-fb
export DLFB_ROOT := $(CURDIR)
# The MinIO/mc build's module and build caches live with the other shared caches.
export GOMODCACHE ?= $(DLFB_CACHE)/go/mod
export GOCACHE ?= $(DLFB_CACHE)/go/build
export PATH := $(CURDIR)/.venv/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export CONTAINERS_CONF := $(CURDIR)/roles/lab/files/containers.conf
export PY_COLORS := 0
export ANSIBLE_FORCE_COLOR := 0

PLAYBOOK := ansible-playbook
HA := -i inventories/ha

.PHONY: help setup artifacts lab lab-ha destroy-ha rolling-restart-ha lab-nodes site validate bench bench-ha bench-iceberg security-audit bench-kafka-tls bench-sql-tls bench-sql-authz bench-cdc bench-cdc-merge-modes fresh-check destroy test lint unit sql-authz-test molecule molecule-default molecule-ha clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

setup: ## Host packages, controller virtualenv, Go, the checkout as a collection
	@scripts/bootstrap.sh

artifacts: setup ## Fill the artifact cache (pinned, sha256-checked, manifest.json)
	$(PLAYBOOK) playbooks/artifacts.yml

lab-nodes: setup ## Build the lab image if missing and start the lab node(s)
	$(PLAYBOOK) playbooks/lab.yml

lab: artifacts lab-nodes ## Everything: lab node(s), site.yml, validation, and where each service answers
	$(PLAYBOOK) site.yml
	$(PLAYBOOK) playbooks/validate.yml
	$(PLAYBOOK) playbooks/endpoints.yml

lab-ha: artifacts setup ## The three-node HA lab (inventories/ha): nodes, site.yml, validation, health behind the VIP, endpoints
	$(PLAYBOOK) $(HA) playbooks/lab.yml
	$(PLAYBOOK) $(HA) site.yml
	$(PLAYBOOK) $(HA) playbooks/validate.yml
	$(PLAYBOOK) $(HA) playbooks/health_check.yml -e health_check_wait=120
	$(PLAYBOOK) $(HA) playbooks/endpoints.yml

rolling-restart-ha: setup ## Restart the HA lab's whole stack node by node, each service gated on its cluster
	$(PLAYBOOK) $(HA) playbooks/rolling_restart.yml

destroy-ha: setup ## Remove the HA lab's nodes and network
	$(PLAYBOOK) $(HA) playbooks/lab.yml -e lab_state=absent

site: setup ## ansible-playbook site.yml on the lab
	$(PLAYBOOK) site.yml

validate: setup ## Validation playbook (results in artifacts/results/)
	$(PLAYBOOK) playbooks/validate.yml

bench: artifacts ## Deploy benchmark: cold site.yml on a fresh node, then the no-change re-run
	python scripts/bench_deploy.py

bench-ha: artifacts ## HA deploy benchmark: cold site.yml on three fresh nodes, the no-change re-run, a rolling restart
	python scripts/bench_deploy.py --ha

security-audit: setup ## Security audit of the lab (inside and outside) -> artifacts/results/security_audit.json
	$(PLAYBOOK) playbooks/security_audit.yml

bench-kafka-tls: setup ## Kafka produce/consume through the TLS and the plaintext listener, same run -> artifacts/results/kafka_tls_benchmark.json
	$(PLAYBOOK) playbooks/bench_kafka_tls.yml

bench-sql-tls: setup ## The seed's query through the SQL endpoint (TLS, login) and a plaintext twin, same run -> artifacts/results/sql_tls_benchmark.json
	$(PLAYBOOK) playbooks/bench_sql.yml -e bench_against=tls

bench-sql-authz: setup ## The seed's query (1M, 10M rows) through the SQL endpoint and a twin without the authorization extension -> artifacts/results/sql_authz_benchmark.json
	$(PLAYBOOK) playbooks/bench_sql.yml -e bench_against=authz

bench-cdc: setup ## CDC capture latency (10 and 1000 rows/s), Iceberg freshness, end-to-end rate, stream lag -> artifacts/results/cdc_benchmark.json
	$(PLAYBOOK) playbooks/bench_cdc.yml

bench-cdc-merge-modes: setup ## CDC tables: copy-on-write against merge-on-read under MERGE batches -> artifacts/results/cdc_merge_modes.json
	$(PLAYBOOK) playbooks/bench_cdc_merge_modes.yml

bench-iceberg: setup ## Iceberg benchmarks on the lab: compaction before/after, write and query baseline
	$(PLAYBOOK) playbooks/bench_iceberg.yml

fresh-check: setup ## Bootstrap in a debootstrapped minbase chroot (nothing of this machine), then check the host tools
	scripts/fresh_machine_check.sh

destroy: setup ## Remove the lab node(s) and network
	$(PLAYBOOK) playbooks/lab.yml -e lab_state=absent

test: artifacts lint unit sql-authz-test molecule ## The test suite CI runs (.ci/run)


lint: setup ## ansible-lint (production profile), yamllint, ruff
	yamllint --strict .
	ruff check .
	ruff format --check .
	ansible-lint --profile production
	ansible-playbook -i inventories/production site.yml --syntax-check

unit: setup ## pytest for plugins and role argument specs (plugin coverage must stay over 80 %)
	pytest --cov=plugins --cov-report=term-missing:skip-covered --cov-fail-under=80 tests/unit

sql-authz-test: artifacts ## The SQL endpoint's authorization on a local Spark Thrift server: the bypass catalogue, grants, masks
	pytest -p no:cacheprovider tests/sql_authz

molecule: molecule-default molecule-ha ## Molecule: the single-node stack (with every role's testinfra checks), then the HA cluster

molecule-default: setup
	molecule test

molecule-ha: setup ## The three-node cluster through every HA check: node and VIP-holder kills under load, re-run, rolling restarts, a stopped rollout, DR, rolling update, add/remove node
	molecule test -s ha

clean: ## Remove generated files in the checkout (not the shared cache)
	rm -rf .cache artifacts/results .pytest_cache .ruff_cache
