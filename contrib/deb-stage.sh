#!/usr/bin/env bash
# deb-stage.sh VERSION: put what contrib/nfpm.yaml packages, beyond the
# binary and the units, under bin/deb/: the man pages and the changelog
# gzipped (-9n: no name or time inside, so the same input gives the same
# bytes), the copyright file, the lintian overrides and the docs. `make deb`
# runs it after `make build units man PREFIX=/usr`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -ne 1 || -z "$1" ]]; then
	echo "usage: deb-stage.sh VERSION" >&2
	exit 2
fi
version=$1
for f in bin/inosync bin/units/inosync.service bin/units/inosync@.service bin/man/inosync.8 bin/man/inosync.conf.5; do
	if [[ ! -s "$f" ]]; then
		echo "deb-stage.sh: $f is missing: run make build units man PREFIX=/usr first" >&2
		exit 1
	fi
done
if ! grep -qx 'ExecStart=/usr/bin/inosync -c /etc/inosync/default.py' bin/units/inosync.service; then
	echo "deb-stage.sh: bin/units/inosync.service was rendered for another prefix than /usr" >&2
	exit 1
fi

stage=bin/deb
rm -rf "$stage"
mkdir -p "$stage/doc"

gzip -9n <bin/man/inosync.8 >"$stage/inosync.8.gz"
gzip -9n <bin/man/inosync.conf.5 >"$stage/inosync.conf.5.gz"
bash contrib/debian-changelog.sh "$version" | gzip -9n >"$stage/changelog.gz"

# The docs a sysadmin reads on the machine; the man pages carry
# docs/inosync.8.md and docs/config.md already, as inosync(8) and
# inosync.conf(5), yet config.md stays: the README links to it.
cp README.md CHANGELOG.md docs/config.md docs/operations.md docs/faq.md docs/migrating.md docs/packaging.md "$stage/doc/"

# lintian: what is not a fault of this package (docs/packaging.md says why).
cat >"$stage/lintian-overrides" <<'EOF'
# Go links statically by design: one binary with nothing to match on the
# target machine (make build sets CGO_ENABLED=0).
inosync: statically-linked-binary [usr/bin/inosync]
EOF

# copyright: DEP-5. The Go modules linked into the binary are listed with
# the license their LICENSE file reads as.
license_of() {
	local dir=$1 f
	f=$(find "$dir" -maxdepth 1 -type f \( -iname 'LICENSE*' -o -iname 'COPYING*' \) | sort | head -n 1)
	if [[ -z "$f" ]]; then
		echo "unknown (no LICENSE file)"
	elif grep -q 'Apache License' "$f"; then
		echo "Apache-2.0"
	elif grep -q 'Permission is hereby granted, free of charge' "$f"; then
		echo "Expat"
	elif grep -qi 'Neither the name' "$f" || grep -qi 'names of its contributors' "$f"; then
		echo "BSD-3-clause"
	elif grep -q 'Redistribution and use in source and binary forms' "$f"; then
		echo "BSD-2-clause"
	else
		echo "see its $(basename "$f")"
	fi
}
modules=$(go version -m bin/inosync | awk '$1 == "dep" { print $2 "@" $3 }')
{
	cat <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: inosync
Upstream-Contact: inosync developers <inosync@example.org>
Comment: inosync succeeds the Python inosync by Benedikt Böhm, whose
 configuration files it reads; it shares no code with it.
 .
 /usr/bin/inosync is statically linked with these Go modules, each under
 its own license:
 .
EOF
	printf '  the Go standard library %s: BSD-3-clause\n' "$(go version -m bin/inosync | awk 'NR == 1 { print $2 }')"
	notices=()
	for m in $modules; do
		dir=$(go mod download -json "$m" 2>/dev/null | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
		if [[ -z "$dir" || ! -d "$dir" ]]; then
			echo "deb-stage.sh: cannot find the source of $m in the module cache" >&2
			exit 1
		fi
		printf '  %s %s: %s\n' "${m%@*}" "${m#*@}" "$(license_of "$dir")"
		if [[ -f "$dir/NOTICE" ]]; then
			notices+=("${m%@*}=$dir/NOTICE")
		fi
	done
	# Apache-2.0 asks that a module's NOTICE go along with the binary.
	for n in "${notices[@]}"; do
		printf ' .\n The NOTICE of %s:\n .\n' "${n%%=*}"
		sed -e 's/^[[:space:]]*$/./' -e 's/^/  /' -e 's/^  \.$/ ./' "${n#*=}"
	done
	cat <<'EOF'

Files: *
Copyright: 2026 inosync developers
License: not-yet-chosen
 The inosync project has not chosen a license yet: its sources carry no
 LICENSE file and its README names none. This paragraph is to be replaced
 by the license's name and text once the project has chosen one.
EOF
} >"$stage/copyright"

echo "deb-stage.sh: staged $stage/ for inosync $version"
