GO ?= go
# Privileged tests run as root; outside CI they skip with a reason when not root.
GOTEST ?= $(GO) test -count=1

.PHONY: all build run generate check-generate lint deps test vmtest bench clean

all: build

build:
	$(GO) build -o pstrace ./cmd/pstrace

# The live process tree, or what ARGS says (make run ARGS=events).
ARGS ?= tree
run: build
	./pstrace $(ARGS)

# Rebuilds the BPF objects and their Go bindings (needs clang and libbpf-dev).
generate:
	$(GO) generate ./tracer ./bench/benchrun

# Fails when the committed BPF objects differ from what the sources build.
check-generate: generate
	@git diff --exit-code --stat -- 'tracer/*_bpfel.*' 'bench/benchrun/*_bpfel.*' || { echo "generated BPF files are stale: run make generate and commit"; exit 1; }

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); [ -z "$$out" ] || { echo "gofmt would change: $$out"; exit 1; }
	$(GO) vet ./...

deps:
	scripts/deps.sh

# Everything: build checks, unit and privileged tests on this kernel (with containerd and
# dockerd started for the container tests, and stopped after), then the VM kernels.
test: deps lint check-generate build
	scripts/mounts.sh
	scripts/engine.sh run $(GOTEST) ./...
	$(MAKE) vmtest

# make vmtest ARCH=arm64 KERNEL=6.1: one architecture's guests, or one kernel's.
vmtest:
	VMTEST_ARCH=$(ARCH) vmtest/run.sh $(KERNEL)

bench: deps build
	bench/run.sh

clean:
	rm -f pstrace
