#!/usr/bin/env bash
# version.sh: what this checkout's build calls itself, from git.
#
#   version.sh          the version linked into the binary (main.version): git
#                       describe's X.Y.Z at a vX.Y.Z tag, X.Y.Z-N-gHASH N commits
#                       after it; empty without a v* tag (the binary then falls
#                       back to its own constant)
#   version.sh deb      a Debian version: X.Y.Z at the tag, X.Y.Z+gitN.gHASH
#                       after it (sorts above the tag), and without a tag
#                       BASE~gitYYYYMMDDHHMMSS.HASH (sorts below BASE), BASE
#                       being the newest release in CHANGELOG.md
#   version.sh commit   the short commit hash (empty outside git)
#   version.sh date     the build date, UTC, RFC 3339: SOURCE_DATE_EPOCH when set
#                       (reproducible builds), else now
#   version.sh epoch    SOURCE_DATE_EPOCH when set, else the commit's time
#                       (what `make deb` builds with), else now
set -euo pipefail
cd "$(dirname "$0")/.."

describe() { git describe --tags --match 'v[0-9]*' 2>/dev/null || true; }
commit() { git rev-parse --short HEAD 2>/dev/null || true; }

# release: the newest "## [X.Y.Z]" heading of CHANGELOG.md.
release() {
	local v
	v=$(sed -n 's/^## \[\([0-9][0-9.]*\)\].*/\1/p' CHANGELOG.md 2>/dev/null | head -n 1)
	if [[ -z "$v" ]]; then
		echo "version.sh: no release heading (## [X.Y.Z] - DATE) in CHANGELOG.md" >&2
		exit 1
	fi
	echo "$v"
}

case "${1:-}" in
"")
	d=$(describe)
	echo "${d#v}"
	;;
deb)
	d=$(describe)
	d=${d#v}
	if [[ "$d" =~ ^([0-9][0-9.]*)-([0-9]+)-(g[0-9a-f]+)$ ]]; then
		echo "${BASH_REMATCH[1]}+git${BASH_REMATCH[2]}.${BASH_REMATCH[3]}"
	elif [[ "$d" =~ ^[0-9][0-9.]*$ ]]; then
		echo "$d"
	elif [[ -n "$d" ]]; then
		echo "version.sh: git describe gave $d, which is no vX.Y.Z tag" >&2
		exit 1
	elif c=$(commit) && [[ -n "$c" ]]; then
		echo "$(release)~git$(TZ=UTC git log -1 --date=format-local:%Y%m%d%H%M%S --format=%cd).$c"
	else
		release # no git at all: a source tarball
	fi
	;;
commit)
	commit
	;;
date)
	if [[ -n "${SOURCE_DATE_EPOCH:-}" ]]; then
		date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ
	else
		date -u +%Y-%m-%dT%H:%M:%SZ
	fi
	;;
epoch)
	if [[ -n "${SOURCE_DATE_EPOCH:-}" ]]; then
		echo "$SOURCE_DATE_EPOCH"
	else
		git log -1 --format=%ct 2>/dev/null || date +%s
	fi
	;;
*)
	echo "usage: version.sh [deb|commit|date|epoch]" >&2
	exit 2
	;;
esac
