# cwmpd — see README.md. Every target works on a fresh machine with Go installed.
GO       ?= go
PKGS     := ./...
BIN      := bin
CWMP_BBF_DIR ?= $(abspath ../shared/bbf)
export CWMP_BBF_DIR

.PHONY: all build test bench lint demo tools clean cross

# Stripped static binaries for the router architectures (sizes recorded in
# docs/benchmarks.md).
CROSS := linux/amd64 linux/arm64 linux/arm/7 linux/mipsle

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/...

# tools makes sure the external programs the tests call are present
# (xmllint for the schema conformance tests).
tools:
	@bash .ci/ensure-tools.sh

test: tools lint
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

bench:
	$(GO) run ./cmd/cwmpbench

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	 if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# demo: the agent's main job on the embedded default — cwmpd on the simulated
# platform against the bundled ACS, a short scripted story (see cmd/cwmpdemo).
demo: build
	@$(BIN)/cwmpdemo --bin $(BIN)

cross:
	@mkdir -p $(BIN)/cross
	@for t in $(CROSS); do \
	  os=$${t%%/*}; rest=$${t#*/}; arch=$${rest%%/*}; arm=$${rest#*/}; [ "$$arm" = "$$rest" ] && arm=""; \
	  out=$(BIN)/cross/cwmpd-$$os-$$arch$${arm:+v$$arm}; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch GOARM=$$arm GOMIPS=softfloat \
	    $(GO) build -trimpath -ldflags='-s -w' -o $$out ./cmd/cwmpd || exit 1; \
	  printf '%-40s %8d bytes\n' $$out $$(stat -c %s $$out); \
	done

clean:
	rm -rf $(BIN)
