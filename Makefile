# Build tags: duckdb_arrow enables duckdb-go-bindings' Arrow API (required);
# pebblegozstd uses Pebble's pure-Go zstd (faster cold builds).
TAGS    := duckdb_arrow,pebblegozstd
GO      ?= go
GOTEST  := $(GO) test -tags=$(TAGS)

.PHONY: run build test test-short vet bench clean

## run: build and start the server on ./data with loopback defaults
run: build
	./bin/kalamdb

## build: put the binaries in bin/
build:
	$(GO) build -tags=$(TAGS) -o bin/kalamdb ./cmd/kalamdb

## vet: go vet and gofmt check
vet:
	$(GO) vet -tags=$(TAGS) ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	 if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## test: the whole suite (vet, gofmt, every package with -race)
test: vet
	$(GOTEST) -race -timeout 25m ./...

## test-short: the suite without -race (faster while iterating)
test-short:
	$(GOTEST) -timeout 25m ./...

## bench: end-to-end benchmarks against their in-process baselines
bench:
	$(GO) run -tags=$(TAGS) ./bench $(BENCHFLAGS)

clean:
	rm -rf bin
