#!/usr/bin/env bash
# The built-in demo: a source and a local target under a temp dir, the daemon
# running on them, a few changes, and the target catching up. No SSH.
set -euo pipefail
bin=${1:-bin/inosync}
demo=$(mktemp -d /tmp/inosync-demo.XXXXXX)
src=$demo/source
dst=$demo/target
mkdir -p "$src/docs" "$dst"
echo "hello" > "$src/docs/readme.txt"
cat > "$demo/demo.py" <<CFG
wpaths = ["$src/"]
rpaths = ["$dst/"]
rnodes = [""]
rexcludes = ["*.swp"]
edelay = 0
CFG

say() { printf '\n== %s\n' "$*"; }
# wait_for DESCRIPTION COMMAND...: poll until COMMAND succeeds, at most 10 s.
wait_for() {
	local what=$1; shift
	for _ in $(seq 1 200); do
		if "$@" 2>/dev/null; then echo "   ok: $what"; return 0; fi
		sleep 0.05
	done
	echo "   FAILED: $what did not happen within 10 s" >&2
	exit 1
}

say "config $demo/demo.py; the initial sync it will run:"
"$bin" -c "$demo/demo.py" --check
say "starting inosync (log: $demo/inosync.log)"
"$bin" -c "$demo/demo.py" --log-format=console >"$demo/inosync.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
wait_for "initial sync" test -f "$dst/docs/readme.txt"

say "a new file"
echo "new file" > "$src/hello.txt"
wait_for "hello.txt on the target" cmp -s "$src/hello.txt" "$dst/hello.txt"

say "a deep directory, written at once"
mkdir -p "$src/a/b/c" && echo deep > "$src/a/b/c/deep.txt"
wait_for "a/b/c/deep.txt on the target" cmp -s "$src/a/b/c/deep.txt" "$dst/a/b/c/deep.txt"

say "a rename"
mv "$src/a" "$src/renamed"
wait_for "renamed/ there and a/ gone" bash -c "test -f '$dst/renamed/b/c/deep.txt' && ! test -e '$dst/a'"

say "a delete"
rm "$src/hello.txt"
wait_for "hello.txt gone from the target" bash -c "! test -e '$dst/hello.txt'"

say "an excluded editor swap file"
echo swap > "$src/.notes.swp"
echo "after swap" > "$src/after.txt"
wait_for "after.txt synced" test -f "$dst/after.txt"
test ! -e "$dst/.notes.swp" && echo "   ok: .notes.swp stayed behind"

say "stopping with SIGTERM"
kill -TERM $pid
wait $pid && echo "   ok: exit 0"
trap - EXIT
say "the daemon's log"
cat "$demo/inosync.log"
say "source and target"
diff -r "$src" "$dst" --exclude='*.swp' && echo "   identical (demo left in $demo)"
