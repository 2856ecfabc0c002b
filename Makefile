# cwmpd — see README.md. Every target works on a fresh machine with Go installed.
GO       ?= go
PKGS     := ./...
BIN      := bin
CWMP_BBF_DIR ?= $(abspath ../shared/bbf)
export CWMP_BBF_DIR

.PHONY: all build test bench lint demo tools clean fuzz-regress

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

clean:
	rm -rf $(BIN)
