# cwmpd — see README.md. Every target works on a fresh machine with Go installed.
GO       ?= go
PKGS     := ./...
BIN      := bin
CWMP_BBF_DIR ?= $(abspath ../shared/bbf)
export CWMP_BBF_DIR

.PHONY: all build test bench lint demo tools clean cross size-check bench-agent test-cross test-cross-mipsle

# Build tags of every shipped binary. nethttpomithttp2 leaves net/http's
# bundled HTTP/2 out (0.5 MB on arm): CWMP runs over HTTP/1.1, and our
# transports (custom dialer and TLS config) never negotiate h2 anyway
# (docs/decisions.md, "HTTP/2 left out of the binary").
TAGS := nethttpomithttp2

# Goal of the footprint issue for the stripped arm binary, in bytes
# (12 MB read as 12,000,000, the stricter of the two readings).
ARM_SIZE_LIMIT := 12000000

# Stripped static binaries for the router architectures (sizes recorded in
# docs/benchmarks.md).
CROSS := linux/amd64 linux/arm64 linux/arm/7 linux/mipsle

all: build

# Static (no cgo), as the router builds below and dist/ ship it: a cgo build
# maps the C library too (1.4 MB more resident memory in make bench-agent).
build:
	CGO_ENABLED=0 $(GO) build -tags '$(TAGS)' -o $(BIN)/ ./cmd/...

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
	    $(GO) build -tags '$(TAGS)' -trimpath -ldflags='-s -w' -o $$out ./cmd/cwmpd || exit 1; \
	  printf '%-40s %8d bytes\n' $$out $$(stat -c %s $$out); \
	done

# size-check fails when the stripped arm binary outgrows the goal. Size is
# decided by the linker, not by timing, so this gate cannot flake. It guards
# against what protobuf v1.36.7 did (docs/benchmarks.md): one reflective call
# made the linker keep every exported method, 13.8 MB instead of 11.0 MB.
size-check:
	@f=$(BIN)/cross/size-check-arm; mkdir -p $(BIN)/cross; \
	  CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 $(GO) build -tags '$(TAGS)' -trimpath -ldflags='-s -w' -o $$f ./cmd/cwmpd || exit 1; \
	  n=$$(stat -c %s $$f); \
	  if [ $$n -le $(ARM_SIZE_LIMIT) ]; then echo "arm binary $$n bytes, limit $(ARM_SIZE_LIMIT): ok"; \
	  else echo "arm binary $$n bytes exceeds the $(ARM_SIZE_LIMIT)-byte goal (see docs/benchmarks.md, binary size)"; exit 1; fi

# bench-agent: the agent's footprint measured on the real binaries (CPU and
# bytes written per periodic session, idle and peak memory, start to first
# Inform over a 100,000-record journal, stripped sizes): cmd/agentbench,
# results in docs/benchmarks.md. About 10 minutes.
bench-agent: build cross
	@$(BIN)/agentbench --bin $(BIN)

# test-cross: the journal, projections and replay tests built for 32-bit ARM
# (GOARM=7) and arm64 and run under qemu-user (Debian qemu-user-static; no
# binfmt_misc needed), then the cross-architecture JSONL check: each arch's
# replay test binary writes the scenarios through a real journal and exports
# JSONL, which must replay on this machine to the native state (docs/cross.md).
# Every package runs even after a failure; the target fails if any did.
CROSS_TEST_ARCHES ?= arm arm64
CROSS_TEST_PKGS   ?= journal projections projections/event projections/live replay
CROSS_TEST_FLAGS  ?= -test.timeout 20m
test-cross:
	@command -v qemu-arm-static >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then apt-get update -qq && apt-get install -y -qq qemu-user-static; \
	  else echo "test-cross needs qemu-user-static (Debian: apt-get install qemu-user-static)"; exit 1; fi; }
	@fail=0; for a in $(CROSS_TEST_ARCHES); do \
	  case $$a in arm) q=qemu-arm-static;; arm64) q=qemu-aarch64-static;; mipsle) q=qemu-mipsel-static;; *) echo "unknown arch $$a"; exit 2;; esac; \
	  dir=$(abspath $(BIN))/cross-test/$$a; mkdir -p $$dir; \
	  for p in $(CROSS_TEST_PKGS); do \
	    t=$$dir/$$(echo $$p | tr / -).test; \
	    CGO_ENABLED=0 GOOS=linux GOARCH=$$a GOARM=7 GOMIPS=softfloat $(GO) test -c -o $$t ./$$p || { fail=1; continue; }; \
	    s=$$(date +%s); \
	    if (cd $$p && JOURNAL_TEST_EXEC_WRAPPER=$$q $$q $$t $(CROSS_TEST_FLAGS) >$$t.log 2>&1); then r=ok; else r=FAIL; fail=1; fi; \
	    printf '%-6s %-8s %-20s %4ds  (log %s)\n' $$a $$r $$p $$(( $$(date +%s) - s )) $$t.log; \
	    [ $$r = ok ] || tail -30 $$t.log; \
	  done; \
	  s=$$(date +%s); \
	  if CWMPD_CROSS_TESTBIN=$$dir/replay.test CWMPD_CROSS_WRAPPER=$$q $(GO) test -count=1 -run '^TestCrossArchReplay$$' -v ./replay/ >$$dir/crossarch.log 2>&1; \
	  then r=ok; else r=FAIL; fail=1; tail -30 $$dir/crossarch.log; fi; \
	  printf '%-6s %-8s %-20s %4ds  (%s)\n' $$a $$r "JSONL $$a→amd64" $$(( $$(date +%s) - s )) "$$(grep -o '[0-9]* scenarios: .*' $$dir/crossarch.log)"; \
	done; exit $$fail

# test-cross-mipsle: the same suite on mipsle (softfloat) under
# qemu-mipsel-static; what happened is written down in docs/cross.md.
test-cross-mipsle:
	@$(MAKE) --no-print-directory test-cross CROSS_TEST_ARCHES=mipsle

clean:
	rm -rf $(BIN)
