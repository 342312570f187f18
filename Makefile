# inosync: build, test, lint, install.
GO            ?= go
PREFIX        ?= /usr/local
BINDIR        ?= $(PREFIX)/bin
SYSCONFDIR    ?= /etc
UNITDIR       ?= /etc/systemd/system
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOBIN         := $(shell $(GO) env GOPATH)/bin

.PHONY: all build build-profile test test-short lint install deps demo bench clean

all: build

# A static binary (no cgo): nothing to match on the target machine, and no
# libc pages in the daemon's memory (1.4 MiB less RSS; docs/benchmarks.md).
build:
	CGO_ENABLED=0 $(GO) build -o bin/inosync ./cmd/inosync

# build-profile: a binary where INOSYNC_CPUPROFILE=FILE and
# INOSYNC_MEMPROFILE=FILE write pprof profiles (bench/findings.md); the
# release binary leaves runtime/pprof out.
build-profile:
	CGO_ENABLED=0 $(GO) build -tags profile -o bin/inosync-profile ./cmd/inosync

# deps installs what the tests need on a Debian machine (as root).
deps:
	@command -v rsync >/dev/null && command -v sshd >/dev/null || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rsync openssh-server openssh-client >/dev/null; }

test: deps
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

test-short:
	$(GO) test -count=1 ./...

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags profile ./cmd/inosync
	@test -x $(GOBIN)/staticcheck || $(GO) install $(STATICCHECK)
	$(GOBIN)/staticcheck ./...
	$(GOBIN)/staticcheck -tags profile ./cmd/inosync

install: build
	install -D -m 0755 bin/inosync $(DESTDIR)$(BINDIR)/inosync
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/inosync/default.py ]; then \
		echo "keeping the existing $(DESTDIR)$(SYSCONFDIR)/inosync/default.py"; \
	else \
		install -D -m 0644 contrib/default.py $(DESTDIR)$(SYSCONFDIR)/inosync/default.py; \
	fi
	@if [ -f contrib/inosync.service ]; then install -D -m 0644 contrib/inosync.service $(DESTDIR)$(UNITDIR)/inosync.service; fi

clean:
	rm -rf bin

# demo runs the daemon on a temp source and a local target and shows changes arriving.
demo: build
	@command -v rsync >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rsync >/dev/null; }
	bash contrib/demo.sh bin/inosync

# bench compares inosync with lsyncd on this machine (as root; installs
# lsyncd when missing) and writes docs/benchmarks.md: about 10 minutes.
# BENCH_QUICK=1 make bench: one round on smaller trees, table only, < 3 min.
# To weigh one change, build the daemon without it too and run both in the
# same rounds: bin/inosync-bench -inosync-alt bin/inosync-old [-only load]
# (a table of inosync-alt against inosync; no report unless -out FILE).
bench: build
	$(GO) build -o bin/inosync-bench ./bench/cmd/inosync-bench
	bin/inosync-bench -inosync bin/inosync
