#!/usr/bin/env bash
# man.sh NAME SECTION FILE [WHAT]: print FILE, a page of docs/, as go-md2man's
# input for the man page NAME(SECTION), on standard output. The page stays
# the one text that both the docs and the man page show; this adds only what
# a man page has and a docs page does not:
#   - the title line (% NAME SECTION DATE SOURCE MANUAL), dated from the
#     commit (SOURCE_DATE_EPOCH when set) so that a build is reproducible;
#   - for a page without a "## NAME" section (docs/config.md), NAME (with
#     WHAT as its one line, else the page's title) and DESCRIPTION
#     headings, and a SEE ALSO section at the end.
# It drops the page's own "# Title" line (and, on a page with a NAME
# section, the lines before that section), and turns links to other docs
# pages into their text (the pages are in /usr/share/doc/inosync/).
# go-md2man makes "##" a section (.SH) and "###" a subsection (.SS).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -lt 3 || $# -gt 4 ]]; then
	echo "usage: man.sh NAME SECTION FILE [WHAT]" >&2
	exit 2
fi
name=$1 section=$2 file=$3 what=${4:-}
if [[ ! -f "$file" ]]; then
	echo "man.sh: $file: no such file" >&2
	exit 1
fi
if ! head -n 1 "$file" | grep -q '^# '; then
	echo "man.sh: $file: the first line is no \"# Title\" heading" >&2
	exit 1
fi

epoch=$(bash contrib/version.sh epoch)
date=$(date -u -d "@$epoch" +%Y-%m-%d)
version=$(bash contrib/version.sh)
if [[ -z "$version" ]]; then
	version=$(sed -n 's/^## \[\([0-9][0-9.]*\)\].*/\1/p' CHANGELOG.md | head -n 1)
fi
upper=$(tr '[:lower:]' '[:upper:]' <<<"$name")
case "$section" in
8) manual="System Administration" ;;
5) manual="File Formats" ;;
*) manual="inosync" ;;
esac

printf '%% %s %s "%s" "inosync %s" "%s"\n\n' "$upper" "$section" "$date" "$version" "$manual"

# body: the page without its title, [text](page.md#anchor) as text, "…"
# as "..." and "µs" as "microseconds": groff has no glyph for those on a
# terminal in the C locale, or for printing.
body() {
	sed -e '1d' -e 's/\[\([^]]*\)\]([^)]*\.md\(#[^)]*\)\{0,1\})/\1/g' \
		-e 's/…/.../g' -e 's/µs/microseconds/g' -e 's/µ/u/g' "$file"
}

# A page written as a man page: from its NAME section on (what comes
# before, under the title, introduces the page among the docs).
if grep -q '^## NAME$' "$file"; then
	body | sed -n '/^## NAME$/,$p'
	exit 0
fi

# A docs page written as a guide: its introduction is the DESCRIPTION.
if [[ -z "$what" ]]; then
	what=$(head -n 1 "$file" | sed 's/^# //')
fi
cat <<EOF
## NAME

$name - $what

## DESCRIPTION

EOF
body
cat <<EOF

## SEE ALSO

inosync(8), rsync(1), ssh(1); the README and docs in /usr/share/doc/inosync/
EOF
