#!/bin/bash
# bench/slowwrite.sh [INOSYNC]: 200 MiB written over about 10 s (1 MiB every
# 50 ms) into a watched tree with a local node and edelay = 0: how many rsync
# runs, and in how many 100 ms samples the target held a (partial) copy.
set -e
BIN=${1:-bin/inosync}
D=$(mktemp -d /tmp/slowXXXX)
mkdir -p $D/src $D/dst
cat > $D/cfg.py <<CFG
wpaths = ["$D/src/"]
rpaths = ["$D/dst/"]
rnodes = [""]
edelay = 0
logfile = None
control_socket = "$D/ctl.sock"
CFG
$BIN -c $D/cfg.py -v > $D/log 2>&1 &
PID=$!
for i in $(seq 50); do [ -S $D/ctl.sock ] && break; sleep 0.1; done
sleep 1
W0=$(awk '/write_bytes/{print $2}' /proc/$PID/io 2>/dev/null || echo 0)
# writer: 200 chunks of 1 MiB, 50 ms apart
( for i in $(seq 200); do head -c 1048576 /dev/urandom; sleep 0.05; done ) > $D/src/big &
WP=$!
partial=0; samples=0
while kill -0 $WP 2>/dev/null; do
  s=$(stat -c %s $D/dst/big 2>/dev/null || echo 0)
  samples=$((samples+1)); [ "$s" -gt 0 ] && partial=$((partial+1))
  sleep 0.1
done
for i in $(seq 100); do cmp -s $D/src/big $D/dst/big && break; sleep 0.2; done
cmp $D/src/big $D/dst/big && echo "converged"
echo "samples during the write: $samples, with a (partial) copy on the target: $partial"
echo "rsync runs: $(grep -c '"message":"rsync"' $D/log)"
grep '"message":"rsync"' $D/log | grep -o '"files":[0-9]*,"full":[a-z]*' | sort | uniq -c
kill $PID; wait $PID 2>/dev/null || true
rm -rf $D
