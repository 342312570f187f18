#!/bin/bash
# bench/busyfs.sh [INOSYNC] [INOSYNC-ALT]: what a busy filesystem costs each
# watcher. A writer makes, renames and deletes files as fast as python goes
# for 10 s in a directory of the filesystem that holds /tmp (the watched
# tree is elsewhere on it): with no daemon, with INOSYNC watching with
# inotify, with INOSYNC-ALT (default INOSYNC) and INOSYNC with fanotify.
# Prints the writer's operations, inosync's CPU and its read(2) calls;
# two rounds. As root (fanotify).
set -e
BIN=${1:-bin/inosync}
ALT=${2:-$BIN}
D=$(mktemp -d /tmp/busyfsXXXX)
trap 'rm -rf $D' EXIT
mkdir -p $D/src $D/dst $D/churn
cat > $D/churn.py <<'PY'
import os, sys, time
d, secs = sys.argv[1], float(sys.argv[2])
end, n = time.time() + secs, 0
while time.time() < end:
    for i in range(100):
        p = os.path.join(d, "f%d" % i)
        with open(p, "w") as f:
            f.write("x")
        os.rename(p, p + ".r")
        os.unlink(p + ".r")
    n += 300
print(n)
PY
cpu() { awk '{printf "%.2f", ($14+$15)/100}' /proc/$1/stat; }
reads() { awk '/syscr/{print $2}' /proc/$1/io; }
run() { # label binary watcher
	if [ -z "$2" ]; then
		echo "$1: writer $(python3 $D/churn.py $D/churn 10) operations"
		return
	fi
	printf 'wpaths = ["%s/src/"]\nrpaths = ["%s/dst/"]\nrnodes = [""]\nedelay = 0\nwatcher = "%s"\ncontrol_socket = "%s/ctl.sock"\n' $D $D $3 $D > $D/cfg.py
	"$2" -c $D/cfg.py --log-format=json 2>$D/log >/dev/null &
	local pid=$!
	for i in $(seq 50); do [ -S $D/ctl.sock ] && break; sleep 0.1; done
	local c0 r0 ops
	c0=$(cpu $pid) r0=$(reads $pid)
	ops=$(python3 $D/churn.py $D/churn 10)
	echo "$1: writer $ops operations, inosync CPU $(awk "BEGIN{print $(cpu $pid) - $c0}") s, $(( $(reads $pid) - r0 )) reads"
	kill $pid
	wait $pid 2>/dev/null || true
}
for round in 1 2; do
	run "no daemon" "" ""
	run "inotify ($BIN)" "$BIN" inotify
	run "fanotify ($ALT)" "$ALT" fanotify
	run "fanotify ($BIN)" "$BIN" fanotify
done
