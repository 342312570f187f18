# inosync: build, test, lint, install, package.
GO            ?= go
PREFIX        ?= /usr/local
BINDIR        ?= $(PREFIX)/bin
SYSCONFDIR    ?= /etc
DATADIR       ?= $(PREFIX)/share
MANDIR        ?= $(DATADIR)/man
DOCDIR        ?= $(DATADIR)/doc/inosync
BASHCOMPDIR   ?= $(DATADIR)/bash-completion/completions
# systemd's units: the admin's directory for a /usr/local install, the
# distribution's (Debian 12: /lib) for PREFIX=/usr.
UNITDIR       ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,/etc/systemd/system)
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Man pages and the Debian package are made by well-kept tools, pinned and
# run with `go run`, so that neither enters go.mod: go-md2man turns the
# docs' markdown into man pages, nfpm builds the .deb (docs/packaging.md).
MD2MAN        := github.com/cpuguy83/go-md2man/v2@v2.0.7
NFPM          := github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.48.0
GOBIN         := $(shell $(GO) env GOPATH)/bin

# What the build calls itself (contrib/version.sh): git describe's version
# (empty without a v* tag: the binary falls back to its own), the commit,
# and the build date (SOURCE_DATE_EPOCH's when set, for reproducible builds).
VERSION       := $(shell bash contrib/version.sh)
COMMIT        := $(shell bash contrib/version.sh commit)
BUILD_DATE    := $(shell bash contrib/version.sh date)
LDFLAGS       := -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.buildDate=$(BUILD_DATE)
# STRIP=1 leaves the symbol table and DWARF out (the package's binary, as
# Debian ships binaries stripped); stack traces keep their function names.
ifeq ($(STRIP),1)
LDFLAGS       += -s -w
endif

UNITS         := inosync.service inosync@.service

.PHONY: all build build-profile test test-short lint install deps demo bench bench-scale clean units man deb check-deb

all: build

# A static binary (no cgo): nothing to match on the target machine, and no
# libc pages in the daemon's memory (1.4 MiB less RSS; docs/benchmarks.md).
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/inosync ./cmd/inosync

# units renders the systemd units for this PREFIX into bin/units/ (always:
# a cheap sed, and the prefix may differ from the last run's).
units:
	@mkdir -p bin/units
	@for u in $(UNITS); do \
		sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' \
			"contrib/$$u.in" > "bin/units/$$u.tmp" && mv "bin/units/$$u.tmp" "bin/units/$$u" || exit 1; \
		if grep -n '@[A-Z]*@' "bin/units/$$u"; then echo "units: $$u: placeholder left unrendered" >&2; exit 1; fi; \
	done
	@echo "units: bin/units/{$$(echo $(UNITS) | tr ' ' ,)} for BINDIR=$(BINDIR)"

# man makes inosync(8) from docs/inosync.8.md and inosync.conf(5) from
# docs/config.md: each page is also read as documentation, and
# contrib/man.sh only adds the man page's title and NAME around it;
# contrib/man-tables.awk lets table cells wrap at 80 columns.
man:
	@mkdir -p bin/man
	bash contrib/man.sh inosync 8 docs/inosync.8.md > bin/man/inosync.8.md
	bash contrib/man.sh inosync.conf 5 docs/config.md 'configuration file of inosync(8)' > bin/man/inosync.conf.5.md
	$(GO) run $(MD2MAN) -in bin/man/inosync.8.md -out bin/man/inosync.8.roff
	$(GO) run $(MD2MAN) -in bin/man/inosync.conf.5.md -out bin/man/inosync.conf.5.roff
	awk -f contrib/man-tables.awk bin/man/inosync.8.roff > bin/man/inosync.8
	awk -f contrib/man-tables.awk bin/man/inosync.conf.5.roff > bin/man/inosync.conf.5

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

# install: the binary, a sample config (an existing one is kept), the
# systemd units, the man pages, the bash completion and the docs, under
# DESTDIR when set. Then: systemctl daemon-reload && systemctl enable --now inosync
install: build units man
	install -D -m 0755 bin/inosync $(DESTDIR)$(BINDIR)/inosync
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/inosync/default.py ]; then \
		echo "keeping the existing $(DESTDIR)$(SYSCONFDIR)/inosync/default.py"; \
	else \
		install -D -m 0644 contrib/default.py $(DESTDIR)$(SYSCONFDIR)/inosync/default.py; \
	fi
	install -D -m 0644 -t $(DESTDIR)$(UNITDIR) bin/units/inosync.service bin/units/inosync@.service
	install -D -m 0644 bin/man/inosync.8 $(DESTDIR)$(MANDIR)/man8/inosync.8
	install -D -m 0644 bin/man/inosync.conf.5 $(DESTDIR)$(MANDIR)/man5/inosync.conf.5
	install -D -m 0644 contrib/inosync.bash-completion $(DESTDIR)$(BASHCOMPDIR)/inosync
	install -D -m 0644 -t $(DESTDIR)$(DOCDIR) README.md CHANGELOG.md docs/config.md docs/operations.md docs/faq.md docs/migrating.md docs/packaging.md

# deb builds bin/inosync_VERSION_ARCH.deb with nfpm (contrib/nfpm.yaml):
# the binary and units for PREFIX=/usr, staged under bin/deb/. Its files are
# dated from the commit (SOURCE_DATE_EPOCH), so that the same commit gives
# the same package.
DEB_VERSION   = $(shell bash contrib/version.sh deb)
DEB_ARCH      = $(shell $(GO) env GOARCH)
deb: export SOURCE_DATE_EPOCH := $(shell bash contrib/version.sh epoch)
deb:
	$(MAKE) --no-print-directory build units man PREFIX=/usr STRIP=1
	bash contrib/deb-stage.sh "$(DEB_VERSION)"
	rm -f bin/inosync_*.deb
	DEB_VERSION="$(DEB_VERSION)" DEB_ARCH="$(DEB_ARCH)" $(GO) run $(NFPM) pkg --packager deb --config contrib/nfpm.yaml --target bin/
	@ls -l bin/inosync_*.deb

# check-deb builds the package, installs, upgrades and purges it on this
# machine (as root; it installs lintian, man-db and systemd when missing):
# what CI runs after the tests.
check-deb:
	bash contrib/check-deb.sh

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

# bench-scale runs the scale rows (as root, not in CI): trees of 250,000
# and 1,000,000 directories on a tmpfs (about 5 GB of memory), watched by
# inosync with fanotify, inosync with inotify and lsyncd, one after the
# other, then a directory of 1,000 MiB renamed, to a node over ssh (a real
# sshd on 127.0.0.1); writes its section of docs/benchmarks.md ("At
# scale"), which make bench keeps. About 15 minutes.
bench-scale: build
	$(GO) build -o bin/inosync-bench ./bench/cmd/inosync-bench
	bin/inosync-bench -scale -inosync bin/inosync
