# gen-manifests: build, test, generate. `make test` installs what it needs
# (a Python venv under target/) and runs every check; see README.md.

CARGO   ?= cargo
VENV    := target/venv
PY      := $(VENV)/bin/python
BIN     := target/release/gen-manifests
K8S     := 1.33.0
OUT     := target/validate
PY_DEPS := kubernetes-validate==1.37.0 PyYAML==6.0.4 jsonschema==4.26.0 \
           fastapi==0.165.0 uvicorn==0.54.0 prometheus-fastapi-instrumentator==8.1.0 \
           pre-commit==4.7.0

.PHONY: all build test unit validate property e2e gen snapshots clean man completions package prometheus-tools keda-promtool

all: build

# On Linux the binary is linked statically (glibc's crt-static, at a fixed
# address): no shared library to map, relocate and initialise at each start,
# about a quarter of the default bundle's run time (`make bench`). `cargo rustc`
# gives the flags to the binary alone: through RUSTFLAGS they would also
# reach the proc-macros, which cannot be static, and `--target` would move
# the binary out of target/release. `cargo build --release` builds the same
# program, dynamically linked.
STATIC := $(if $(filter Linux,$(shell uname -s)),-- -C target-feature=+crt-static -C relocation-model=static)

# On x86_64 Linux (linked by rust-lld, Rust's default there since 1.90),
# the code and read-only data a default run uses (tools/hot-functions.txt,
# tools/hot-rodata.ld, written by tools/hot-functions) are placed together:
# a run then maps a few hundred KB of the binary rather than pages all over
# its 19 MB, a third of its time (`make bench`). The copies' directory is
# named by their checksum, so that cargo relinks when a list changes; a
# name the binary lacks is skipped. The link map is tools/hot-functions'
# input.
HOT := target/hot-$(shell cat tools/hot-functions.txt tools/hot-rodata.ld | sha256sum | cut -c1-16)
LLD_LAYOUT := -C link-arg=-Wl,--symbol-ordering-file=$(CURDIR)/$(HOT)/hot-functions.txt \
  -C link-arg=-Wl,--no-warn-symbol-ordering -C link-arg=-Wl,-T,$(CURDIR)/$(HOT)/hot-rodata.ld \
  -C link-arg=-Wl,-Map=$(CURDIR)/target/gen-manifests.map
LAYOUT := $(if $(filter Linux/x86_64,$(shell uname -s)/$(shell uname -m)),$(LLD_LAYOUT))

build: $(HOT)
	$(CARGO) rustc --release --locked --bin gen-manifests $(STATIC) $(LAYOUT)

$(HOT): tools/hot-functions.txt tools/hot-rodata.ld
	mkdir -p $@ && cp tools/hot-functions.txt tools/hot-rodata.ld $@/

gen: build
	$(BIN) > custom-metrics.yaml

# The man page and shell completions, under target/ (install them where
# your system looks: /usr/local/share/man/man1, bash-completion, ...).
man: build
	mkdir -p target/man && $(BIN) man > target/man/gen-manifests.1

completions: build
	mkdir -p target/completions
	$(BIN) completions bash > target/completions/gen-manifests.bash
	$(BIN) completions zsh > target/completions/_gen-manifests
	$(BIN) completions fish > target/completions/gen-manifests.fish

$(VENV)/.installed: Makefile
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check $(PY_DEPS)
	touch $@

test: unit validate property keda-promtool e2e package

# What `cargo package` ships: the library, the binary, README, LICENSE and
# the Cargo files only (the `include` list in Cargo.toml).
package:
	$(CARGO) package --locked --no-verify --list --allow-dirty 2>/dev/null > target/package-list.txt
	! grep -vE '^(\.cargo_vcs_info\.json|Cargo\.(toml|toml\.orig|lock)|LICENSE|README\.md|build\.rs|lib/.+|bin/.+)$$' target/package-list.txt
	grep -qx LICENSE target/package-list.txt && grep -qx bin/gen-manifests.rs target/package-list.txt

# The real components: Prometheus (Debian package `prometheus`) and the
# FastAPI example app, on 127.0.0.1; bounded to two minutes.
prometheus-tools:
	@if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -qq --no-install-recommends prometheus >/dev/null; \
	  else echo "prometheus and promtool are missing: run 'sudo apt-get install -y --no-install-recommends prometheus'"; exit 1; fi; \
	fi

# Every KEDA query, evaluated by promtool on synthetic series of Deployments
# whose names share a prefix: one sample, the right app's total.
keda-promtool: build $(VENV)/.installed prometheus-tools
	$(PY) tests/keda_promtool.py $(BIN) $(OUT)-promtool fixtures/specs/*.yaml examples/fastapi/spec.yaml

e2e: build $(VENV)/.installed prometheus-tools
	timeout 150 $(PY) tests/e2e/e2e.py $(BIN) $(PY)

# Unit, snapshot, CLI and doc tests. INSTA_UPDATE=no: a snapshot that
# differs fails instead of being rewritten.
unit:
	INSTA_UPDATE=no $(CARGO) test --locked --all-targets
	INSTA_UPDATE=no $(CARGO) test --locked --doc
	# lint on the real-world corpus (fixtures/lint/real): the tally.
	@$(CARGO) test --locked --test lint real_world_corpus -- --exact --nocapture 2>&1 | grep '^corpus:' 
	# The library builds with the Kubernetes version its user picks, and its
	# core (no tool features) stays lean: at most 50 crates.
	$(CARGO) check --locked --lib --no-default-features --features k8s-openapi/v1_36
	@n=$$($(CARGO) tree --locked -e normal --no-default-features --features k8s-openapi/v1_36 --prefix none \
	  | sed 's/ (\*)//' | sort -u | wc -l); \
	  echo "core library: $$n crates (at most 50)"; test "$$n" -le 50
	# The binary stays thin: no file under bin/ over 200 lines.
	@! find bin -name '*.rs' -exec awk 'END { if (NR > 200) print FILENAME ": " NR " lines, at most 200" }' {} \; | grep .
	# Each tool feature builds on its own.
	for feature in promql lint explain simulate gitops write migrate import; do \
	  $(CARGO) check --locked --lib --no-default-features --features k8s-openapi/v1_36,$$feature || exit 1; \
	done

# Independent checks: kubernetes-validate --strict, the CRD schemas, and a
# YAML 1.1 reader, over every preset and fixture spec.
validate: build $(VENV)/.installed
	rm -rf $(OUT) && mkdir -p $(OUT)
	# The default (no flags) runs on a stock kube-prometheus cluster and
	# passes the tool's own lint (exit 0; its one warning is insecure-tls).
	$(BIN) > $(OUT)/default.yaml
	$(BIN) lint $(OUT)/default.yaml
	$(BIN) --preset documented > $(OUT)/preset-documented.yaml
	$(BIN) --preset recommended > $(OUT)/preset-recommended.yaml
	$(BIN) --preset recommended --format json > $(OUT)/preset-recommended.json
	for spec in fixtures/specs/*.yaml; do \
	  $(BIN) -c $$spec > $(OUT)/spec-$$(basename $$spec) || exit 1; \
	done
	$(BIN) -c examples/fastapi/spec.yaml --backend keda > $(OUT)/keda-fastapi.yaml
	$(BIN) roles --namespace my-app --namespace shop > $(OUT)/roles.yaml
	for release in release-0.12 release-0.14; do \
	  mkdir -p $(OUT)/$$release && cp fixtures/kube-prometheus/$$release/*.yaml $(OUT)/$$release/ && \
	  $(BIN) roles --namespace my-app --namespace shop --patch $(OUT)/$$release > /dev/null || exit 1; \
	done
	$(PY) tests/validate_manifests.py --k8s-version $(K8S) --string-labels $(OUT)/*.yaml $(OUT)/*.json $(OUT)/release-*/*.yaml
	# --out-dir output through kubectl kustomize validates too.
	$(BIN) -c examples/fastapi/spec.yaml --out-dir $(OUT)/out-dir
	kubectl kustomize $(OUT)/out-dir > $(OUT)/kustomized.yaml
	$(PY) tests/validate_manifests.py --k8s-version $(K8S) $(OUT)/kustomized.yaml
	# pre-commit's own schema check of the hooks file; its canary must fail.
	$(VENV)/bin/pre-commit validate-manifest .pre-commit-hooks.yaml
	! $(VENV)/bin/pre-commit validate-manifest fixtures/validator-canary/pre-commit-hooks.yaml > $(OUT)/pre-commit-canary.log
	grep -q "Missing required key: name" $(OUT)/pre-commit-canary.log
	# The validators must reject known-bad objects, each for its own reason
	# (the text in its validator-canary/expect annotation), or they prove nothing.
	$(PY) tests/validate_manifests.py --canary --k8s-version $(K8S) --string-labels fixtures/validator-canary/broken.yaml > $(OUT)/canary.log || { cat $(OUT)/canary.log; exit 1; }
	# The same for KEDA's CRD schemas (a pruned typo, missing required fields).
	$(PY) tests/validate_manifests.py --canary fixtures/validator-canary/keda-broken.yaml > $(OUT)/keda-canary.log || { cat $(OUT)/keda-canary.log; exit 1; }

# The loop closed (tests/property.rs): generated specs across the value
# space, boundary values included, are refused with exit 2 or every object
# printed passes validate_manifests.py (one Python run per batch).
# PROPERTY_CASES bounds it here; `make fuzz` runs many more.
property: $(VENV)/.installed
	PROPERTY_PYTHON=$(PY) PROPERTY_CASES=$${PROPERTY_CASES:-240} \
	  $(CARGO) test --locked --test property -- --ignored --nocapture

# Re-run the snapshot tests writing .snap.new files for changed output;
# review them with `cargo insta review` (cargo install cargo-insta) or
# accept all with `make snapshots ACCEPT=1`.
snapshots:
ifeq ($(ACCEPT),1)
	INSTA_UPDATE=always $(CARGO) test --all-targets
else
	INSTA_UPDATE=new INSTA_FORCE_PASS=1 $(CARGO) test --all-targets
	@find . -path ./target -prune -o -name '*.snap.new' -print
endif

clean:
	$(CARGO) clean

# The library's top-level modules import downward only: no cycle between
# them (tools/module-cycles, on cargo-modules' graph). cargo-modules takes
# long to build, so it is installed on first use and this target is not
# part of `make test`; CI runs it after the tests.
.PHONY: modules
modules:
	@command -v cargo-modules >/dev/null || $(CARGO) install --locked cargo-modules@0.27.0
	tools/module-cycles

.PHONY: bench
bench: build
	bash bench/run.sh

# Longer fuzzing of spec reading and rendering (not part of `make test`).
.PHONY: fuzz
fuzz: $(VENV)/.installed
	PROPTEST_CASES=$${PROPTEST_CASES:-20000} $(CARGO) test --release --test fuzz
	PROPERTY_PYTHON=$(PY) PROPERTY_CASES=$${PROPERTY_CASES:-5000} PROPERTY_SEED=$${PROPERTY_SEED:-$$(date +%s)} \
	  $(CARGO) test --locked --test property -- --ignored --nocapture
