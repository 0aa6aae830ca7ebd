# Build tags: duckdb_arrow enables duckdb-go-bindings' Arrow API (required);
# pebblegozstd uses Pebble's pure-Go zstd (faster cold builds).
TAGS    := duckdb_arrow,pebblegozstd
GO      ?= go
GOTEST  := $(GO) test -tags=$(TAGS)

.PHONY: run build test test-short vet bench clean compat compat-if-available fuzz difffuzz

## run: build and start the server on ./data with loopback defaults
run: build
	./bin/kalamdb

## build: put the binaries in bin/
build:
	$(GO) build -tags=$(TAGS) -o bin/kalamdb ./cmd/kalamdb

## vet: go vet, gofmt and go mod tidy checks
vet:
	$(GO) vet -tags=$(TAGS) ./...
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum need go mod tidy"; exit 1; }
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	 if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## test: the whole suite (vet, gofmt, every package with -race, then the
## Python and Java client suites when python3, java and mvn are installed);
## internal/testreport prints go test's usual lines and the slowest tests
test: vet
	$(GOTEST) -race -timeout 25m -json ./... | $(GO) run ./internal/testreport
	@$(MAKE) --no-print-directory compat-if-available

## compat: the client suites (Python: ADBC/pyarrow/polars/pandas; Java: the
## Flight SQL JDBC driver) against a freshly built server. They create a
## virtualenv in compat/python/.venv and use Maven's ~/.m2 themselves.
compat: build
	KALAMDB_BIN=$(CURDIR)/bin/kalamdb compat/python/run.sh
	KALAMDB_BIN=$(CURDIR)/bin/kalamdb compat/java/run.sh

compat-if-available:
	@if command -v python3 >/dev/null 2>&1 && command -v java >/dev/null 2>&1 && command -v mvn >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory compat; \
	else \
		echo "compat: python3, java or mvn not found: the client suites did not run"; \
	fi

## test-short: the suite without -race (faster while iterating)
test-short:
	$(GOTEST) -timeout 25m ./...

## fuzz: run every fuzz target for FUZZTIME each (go test runs their seed
## corpora on every test run; this explores beyond them). New failing
## inputs land in the package's testdata/fuzz/<target>/.
FUZZTIME ?= 30s
ISOLATION_QUERIES ?= 50000
FUZZ_TARGETS := \
	flightsrv:FuzzDoPutIngest flightsrv:FuzzDoPutParams \
	flightsrv:FuzzTicket flightsrv:FuzzPreparedHandle \
	engine/sqlparse:FuzzParse engine/sqlparse:FuzzLex engine/sqlparse:FuzzLiteralFastPaths \
	hotstore:FuzzRowDecode hotstore:FuzzKeyRoundTrip \
	auth:FuzzVerifyToken auth:FuzzTokenClaims
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		$(GOTEST) -run=^$$ -fuzz=^$$name$$ -fuzztime=$(FUZZTIME) ./$$pkg; \
	done
	@echo "isolation fuzz: $(ISOLATION_QUERIES) random queries as a user-role client"
	KALAMDB_ISOLATION_QUERIES=$(ISOLATION_QUERIES) $(GOTEST) -count=1 -timeout 60m -run '^TestIsolationFuzz$$' -v ./cmd/kalamdb
	@$(MAKE) --no-print-directory difffuzz SEEDS=$(SEEDS) DURATION=$(DURATION)

## difffuzz: the differential fuzzer (difftest/): generated workloads run on
## the server over Flight SQL and on DuckDB in process; any difference fails
## with a shrunk SQL reproduction. SEEDS is a comma-separated list or
## "random" (new seeds until DURATION ends); STATEMENTS per seed; EXCLUDE
## the categories of known defects left out (a list, "all" or "none";
## default: the open ones, see knownOpen in difftest/gen_test.go).
## make test runs its fixed seeds under -race within about a minute.
SEEDS ?= random
DURATION ?= 5m
STATEMENTS ?= 120
difffuzz:
	KALAMDB_DIFF_SEEDS=$(SEEDS) KALAMDB_DIFF_DURATION=$(DURATION) KALAMDB_DIFF_STATEMENTS=$(STATEMENTS) \
		$(if $(EXCLUDE),KALAMDB_DIFF_EXCLUDE=$(EXCLUDE)) \
		$(GOTEST) -count=1 -timeout 0 -run '^TestDiffFuzz$$' -v ./difftest

## soak: the consistency tests (counters, bank transfers, transfers during
## flush and compaction) with SOAK_SCALE times their usual counts, and the
## crash loop (kill -9 and failpoints under load) for CRASH_CYCLES cycles
SOAK_SCALE ?= 20
CRASH_CYCLES ?= 1000
.PHONY: soak
soak:
	KALAMDB_SOAK=1 KALAMDB_SOAK_SCALE=$(SOAK_SCALE) KALAMDB_CRASH_CYCLES=$(CRASH_CYCLES) $(GOTEST) -race -timeout 120m -count=1 -v \
		-run 'TestCounterNoLostUpdates|TestBankTransfers|TestTransfersDuringFlushAndCompaction|TestCrashLoop' ./cmd/kalamdb

## bench: end-to-end benchmarks against their in-process baselines
bench:
	$(GO) run -tags=$(TAGS) ./bench $(BENCHFLAGS)

clean:
	rm -rf bin
