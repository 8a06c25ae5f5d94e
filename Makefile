# ycm-onboard: `make test` is the test command the README and CI run.
GO       ?= go
PKGS     := ./...
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)

.PHONY: all build cross image-check test check fmt vet tidy-check bench bench-sim chaos samples demo clean

all: check build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/ycm-onboard ./cmd/ycm-onboard

# The platforms a release is built for: every one must build.
PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64

# The release image, built as GoReleaser would and run offline (needs podman or docker).
image-check:
	scripts/image-check.sh

cross:
	@for p in $(PLATFORMS); do \
		echo "build $$p"; \
		GOOS=$${p%/*} GOARCH=$${p#*/} CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o /dev/null ./cmd/ycm-onboard || exit 1; \
	done
	@echo "vet windows/amd64 (every package and its tests, as Windows code)"
	@GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(GO) vet $(PKGS)

# The default suite: race detector on, short fuzz runs of the importer. The fuzz runs are
# bounded by a count of executions, not a duration: Go 1.26's fuzz coordinator can fail
# a duration-bounded run with "context deadline exceeded" and no crasher at its end
# (go.dev/issue/75804, fixed in Go 1.27).
test:
	$(GO) test -race -count=1 $(PKGS)
	$(GO) test -run '^$$' -fuzz '^FuzzReadCSV$$' -fuzztime 30000x -fuzzminimizetime 2s ./importer/
	$(GO) test -run '^$$' -fuzz '^FuzzReadXLSX$$' -fuzztime 3000x -fuzzminimizetime 2s ./importer/

# Before every commit: formatting, tidy modules, vet, race tests.
check: fmt tidy-check vet
	$(GO) test -race -count=1 $(PKGS)

fmt:
	@out="$$(gofmt -l $$(git ls-files '*.go'))"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

tidy-check:
	@cp go.mod /tmp/ycm-go.mod.bak; cp go.sum /tmp/ycm-go.sum.bak; \
	$(GO) mod tidy; \
	if ! cmp -s go.mod /tmp/ycm-go.mod.bak || ! cmp -s go.sum /tmp/ycm-go.sum.bak; then \
		echo "go mod tidy changed go.mod or go.sum: commit the tidy result"; exit 1; fi

# Benchmarks and soaks: not in the default suite. Numbers go to BENCHMARKS.md.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -tags bench $(PKGS)

bench-sim:
	scripts/bench-sim.sh 10 16

# The fault matrix (issue 14): each case against its own simulator process, one
# Markdown table out (RELIABILITY.md keeps it). Linux; root for the tmpfs case.
chaos:
	$(GO) run ./scripts/chaos

samples:
	$(GO) run ./samples/gen

demo:
	$(GO) run ./cmd/ycm-onboard apply samples/onboarding.xlsx

clean:
	rm -rf bin ycm-onboard-*.xlsx
