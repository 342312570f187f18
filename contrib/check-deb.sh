#!/usr/bin/env bash
# check-deb.sh: build the Debian package and try it on this machine, as
# root: install (with rsync pulled in), check what it installed (the
# version, the man pages, the systemd units with systemd-analyze, lintian),
# reinstall over an edited config (the edit must stay), then purge (the
# binary, units, man pages, the conffile and the enable links must go).
# `make check-deb` and CI (.ci/run, after the tests) run it. It installs
# lintian, man-db and systemd when missing, and leaves inosync purged.
# SKIP_BUILD=1 checks the bin/inosync_*.deb already built.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
start=$SECONDS

# The highest `systemd-analyze security` exposure a unit may have (0-10).
MAX_EXPOSURE=5.0

step() { printf '\n== check-deb: %s\n' "$*"; }
fail() {
	printf 'check-deb: FAIL: %s\n' "$*" >&2
	exit 1
}

if [[ $(id -u) -ne 0 ]]; then
	fail "run as root: it installs and purges the package"
fi

step "tools"
missing=()
command -v lintian >/dev/null || missing+=(lintian)
command -v man >/dev/null || missing+=(man-db)
command -v systemd-analyze >/dev/null || missing+=(systemd)
if [[ ${#missing[@]} -gt 0 ]]; then
	echo "installing ${missing[*]}"
	apt-get update -qq
	apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Images made for containers tell dpkg to leave out man pages
# (path-exclude=/usr/share/man/* in /etc/dpkg/dpkg.cfg.d/); this package's
# are let in on the command line, which dpkg reads after those files.
dpkg_opts=(--path-include='/usr/share/man/man8/inosync.8.gz' --path-include='/usr/share/man/man5/inosync.conf.5.gz')

if [[ "${SKIP_BUILD:-}" != 1 ]]; then
	step "make deb"
	make --no-print-directory deb
fi
shopt -s nullglob
debs=(bin/inosync_*.deb)
shopt -u nullglob
if [[ ${#debs[@]} -ne 1 ]]; then
	fail "expected one bin/inosync_*.deb, found ${#debs[@]}"
fi
deb=${debs[0]}
deb_version=$(dpkg-deb -f "$deb" Version)
echo "package: $deb (version $deb_version)"

step "dpkg-deb -c"
dpkg-deb -c "$deb"

step "lintian"
# Errors fail the check; warnings and infos are shown (docs/packaging.md
# explains those that remain). lintian warns that it runs as root.
lintian --display-level '>=info' --fail-on error "$deb" || fail "lintian found errors (above)"

step "install"
if dpkg -s inosync >/dev/null 2>&1; then
	echo "purging the inosync installed before"
	dpkg --purge inosync >/dev/null
fi
apt-get install -y -qq -o "DPkg::Options::=${dpkg_opts[0]}" -o "DPkg::Options::=${dpkg_opts[1]}" "./$deb" >/dev/null ||
	fail "apt-get install ./$deb failed"
[[ $(dpkg-query -W -f '${Status}' inosync) == "install ok installed" ]] || fail "inosync is not installed after apt-get install"
[[ -x /usr/bin/inosync ]] || fail "/usr/bin/inosync is missing"
command -v rsync >/dev/null || fail "rsync was not pulled in (Depends: rsync)"

step "inosync --version"
out=$(inosync --version)
echo "$out"
read -r word1 word2 _ <<<"$out"
[[ "$word1" == inosync ]] || fail "inosync --version: the first word is \"$word1\", not inosync"
[[ "$word2" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+~.][0-9A-Za-z.+~-]*)?$ ]] || fail "inosync --version: the second word \"$word2\" is no version"
# The binary says X.Y.Z (or X.Y.Z-N-gHASH after a tag); the package
# X.Y.Z, X.Y.Z+gitN.gHASH or X.Y.Z~git…: the same release.
[[ "${word2%%[-+~]*}" == "${deb_version%%[-+~]*}" ]] ||
	fail "inosync --version says $word2, the package is $deb_version"

step "man pages"
for page in inosync inosync.conf; do
	path=$(man -w "$page") || fail "man -w $page finds nothing"
	echo "$page: $path"
	# In the C locale too, where groff knows fewer glyphs.
	for locale in C.UTF-8 C; do
		warnings=$(LC_ALL=$locale MANWIDTH=80 man "$page" 2>&1 >/dev/null) || fail "man $page failed: $warnings"
		[[ -z "$warnings" ]] || fail "man $page warns (LC_ALL=$locale): $warnings"
	done
	# groff with every warning on, for print too.
	warnings=$(zcat "$path" | groff -k -man -t -ww -z 2>&1) || fail "groff $path failed: $warnings"
	[[ -z "$warnings" ]] || fail "groff -ww warns on $path: $warnings"
done

step "bash completion"
bash -n /usr/share/bash-completion/completions/inosync || fail "the bash completion does not parse"
echo "/usr/share/bash-completion/completions/inosync parses"

step "systemd units"
units=(/lib/systemd/system/inosync.service /lib/systemd/system/inosync@.service)
for u in "${units[@]}"; do
	[[ -f "$u" ]] || fail "$u is missing"
done
# verify reads the units as systemd would (it checks that ExecStart's
# binary exists); anything it prints is a fault.
out=$(systemd-analyze verify "${units[@]}" inosync@web.service 2>&1) || fail "systemd-analyze verify: $out"
[[ -z "$out" ]] || fail "systemd-analyze verify complains: $out"
echo "systemd-analyze verify: no complaint"
threshold=$(awk -v e="$MAX_EXPOSURE" 'BEGIN { printf "%d", e * 10 }')
for u in "${units[@]}"; do
	out=$(systemd-analyze security --offline=true --threshold="$threshold" "$u" 2>&1) ||
		fail "$(basename "$u"): exposure above $MAX_EXPOSURE: $(tail -n 1 <<<"$out")"
	echo "$(basename "$u"): $(grep 'Overall exposure level' <<<"$out" | sed 's/^→ //')"
done

step "the client finds no daemon (exit 3) at the units' socket path"
rc=0
out=$(inosync status -c /etc/inosync/default.py 2>&1) || rc=$?
[[ $rc -eq 3 ]] || fail "inosync status without a daemon exited $rc, not 3: $out"
grep -q '/run/inosync/default-' <<<"$out" || fail "inosync status looked elsewhere than /run/inosync: $out"
echo "exit 3; it looked in /run/inosync/, the units' RuntimeDirectory"

step "reinstall over an edited config"
marker="# edited by check-deb $$"
echo "$marker" >>/etc/inosync/default.py
# No --force-conf*: with the conffile unchanged in the package, dpkg must
# keep the edit without asking (standard input is closed to be sure).
dpkg -i "${dpkg_opts[@]}" "$deb" </dev/null >/dev/null || fail "dpkg -i over the installed package failed"
grep -qxF "$marker" /etc/inosync/default.py || fail "the edit of /etc/inosync/default.py did not survive a reinstall"
echo "the edit of /etc/inosync/default.py survived"

step "purge"
# Links as `systemctl enable` makes them (it works without a running
# systemd); the purge must take them along.
systemctl enable inosync.service inosync@web.service 2>&1 | sed 's/^/  /'
dpkg --purge inosync >/dev/null || fail "dpkg --purge inosync failed"
for f in /usr/bin/inosync "${units[@]}" /usr/share/man/man8/inosync.8.gz /usr/share/man/man5/inosync.conf.5.gz \
	/usr/share/bash-completion/completions/inosync /etc/inosync/default.py /etc/inosync /usr/share/doc/inosync; do
	[[ ! -e "$f" ]] || fail "$f is still there after the purge"
done
links=$(find /etc/systemd/system -lname '*/inosync*.service' 2>/dev/null)
[[ -z "$links" ]] || fail "enable links left after the purge: $links"
[[ $(dpkg-query -W -f '${Status}' inosync 2>/dev/null || true) != *installed* ]] || fail "inosync is still installed"
echo "binary, units, man pages, completion, docs, conffile and enable links are gone"

printf '\ncheck-deb: OK: %s in %d s\n' "$deb" $((SECONDS - start))
