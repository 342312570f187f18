#!/usr/bin/env bash
# debian-changelog.sh VERSION: print the Debian changelog of the package
# VERSION (debian/changelog's format), made from CHANGELOG.md: one entry per
# release, newest first, and on top an entry for VERSION itself when it is
# a snapshot (0.4.0~git…, 0.4.0+git…) rather than a release.
set -euo pipefail
cd "$(dirname "$0")/.."

MAINTAINER=${DEB_MAINTAINER:-inosync developers <inosync@example.org>}

if [[ $# -ne 1 || -z "$1" ]]; then
	echo "usage: debian-changelog.sh VERSION" >&2
	exit 2
fi
version=$1
if [[ ! -f CHANGELOG.md ]]; then
	echo "debian-changelog.sh: CHANGELOG.md is missing" >&2
	exit 1
fi

# item TEXT: one "  * TEXT" entry, wrapped at 78 columns, Markdown's
# backticks dropped.
item() {
	local text=${1//\`/}
	fold -s -w 74 <<<"$text" | sed -e 's/ *$//' -e '1s/^/  * /' -e '2,$s/^/    /'
}

# trailer DATE: the signature line of an entry (two spaces before the date).
trailer() {
	printf '\n -- %s  %s\n' "$MAINTAINER" "$(LC_ALL=C date -u -R -d "$1")"
}

newest=$(sed -n 's/^## \[\([0-9][0-9.]*\)\].*/\1/p' CHANGELOG.md | head -n 1)
if [[ -z "$newest" ]]; then
	echo "debian-changelog.sh: no release heading (## [X.Y.Z] - YYYY-MM-DD) in CHANGELOG.md" >&2
	exit 1
fi
if [[ "$version" != "$newest" ]]; then
	epoch=$(bash contrib/version.sh epoch)
	commit=$(bash contrib/version.sh commit)
	printf 'inosync (%s) unstable; urgency=medium\n\n' "$version"
	item "Development snapshot${commit:+ of commit $commit}; the entries below say what the releases have, CHANGELOG.md in the docs what came since."
	trailer "@$epoch"
	echo
fi

# The releases: "## [X.Y.Z] - DATE" starts one, "### Kind" a group, "- " an
# item continued by indented lines.
first=1
flush() {
	if [[ -n "${text:-}" ]]; then
		item "$kind: $text"
		text=""
	fi
}
text="" kind="" date=""
while IFS= read -r line || [[ -n "$line" ]]; do
	if [[ "$line" =~ ^##\ \[([0-9][0-9.]*)\]\ -\ ([0-9]{4}-[0-9]{2}-[0-9]{2}) ]]; then
		flush
		if [[ -n "$date" ]]; then
			trailer "$date"
			echo
		fi
		first=0
		date=${BASH_REMATCH[2]}
		printf 'inosync (%s) unstable; urgency=medium\n\n' "${BASH_REMATCH[1]}"
	elif [[ -z "$date" ]]; then
		continue # the file's own introduction
	elif [[ "$line" =~ ^###\ (.*) ]]; then
		flush
		kind=${BASH_REMATCH[1]}
	elif [[ "$line" =~ ^-\ (.*) ]]; then
		flush
		text=${BASH_REMATCH[1]}
	elif [[ "$line" =~ ^\ \ +(.*) && -n "$text" ]]; then
		text+=" ${BASH_REMATCH[1]}"
	else
		flush
	fi
done <CHANGELOG.md
flush
if [[ $first -eq 1 ]]; then
	echo "debian-changelog.sh: CHANGELOG.md has no release" >&2
	exit 1
fi
trailer "$date"
