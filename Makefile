GO ?= go
# Privileged tests run as root; outside CI they skip with a reason when not root.
GOTEST ?= $(GO) test -count=1

.PHONY: all build image run generate check-generate lint deps testcollector test vmtest bench clean

all: build

# What `pstrace --version` reports (a plain go build falls back on Go's build info).
VERSION ?= $(shell scripts/version.sh version)
COMMIT ?= $(shell scripts/version.sh commit)
VERSION_PKG := $(shell $(GO) list -m)/internal/version
LDFLAGS := -X $(VERSION_PKG).version=$(VERSION) -X $(VERSION_PKG).commit=$(COMMIT)

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o pstrace ./cmd/pstrace

# The container image pstrace:$(VERSION): a static binary, no base image, built
# offline into the local dockerd; prints its size.
image:
	GO=$(GO) VERSION=$(VERSION) COMMIT=$(COMMIT) scripts/image.sh

# The live process tree, or what ARGS says (make run ARGS=events).
ARGS ?= tree
run: build
	./pstrace $(ARGS)

# Rebuilds the BPF objects and their Go bindings (needs clang and libbpf-dev).
generate:
	$(GO) generate ./tracer
	cd bench && $(GO) generate ./benchrun

# Fails when the committed BPF objects differ from what the sources build.
check-generate: generate
	@git diff --exit-code --stat -- 'tracer/*_bpfel.*' 'bench/benchrun/*_bpfel.*' || { echo "generated BPF files are stale: run make generate and commit"; exit 1; }

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); [ -z "$$out" ] || { echo "gofmt would change: $$out"; exit 1; }
	$(GO) vet ./...
	cd bench && $(GO) vet ./...
	cd deploy && $(GO) vet ./...

deps:
	scripts/deps.sh

# The OpenTelemetry Collector the OTLP tests send to: its first build takes minutes, so it is
# built (and cached, see internal/otlp/otlptest) before the tests, outside their timeouts.
testcollector:
	$(GOTEST) -timeout 30m -run '^TestCollectorBinary$$' ./internal/otlp/otlptest

# Everything: build checks, unit and privileged tests on this kernel (with containerd and
# dockerd started for the container tests, and stopped after), then the VM kernels.
# deploy/ is a module of its own (the Kubernetes API types are only its tests').
test: deps lint check-generate build testcollector
	scripts/mounts.sh
	scripts/engine.sh run sh -c '$(GOTEST) ./... && cd deploy && $(GOTEST) ./...'
	cd bench && $(GOTEST) ./...
	$(MAKE) vmtest

# make vmtest ARCH=arm64 KERNEL=6.1: one architecture's guests, or one kernel's.
vmtest:
	VMTEST_ARCH=$(ARCH) vmtest/run.sh $(KERNEL)

bench: deps build
	bench/run.sh

clean:
	rm -f pstrace
