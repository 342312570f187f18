#!/usr/bin/env python3
"""bench/changecpu.py [INOSYNC] [--drift]: what a change costs in CPU, the
daemon's own against its rsyncs'; with --drift, how the daemon's memory
grows with work.

It makes a tree of 2,000 directories with a local node (edelay = 0), on
/dev/shm when there is one (as the bench's load rows: a disk's own
stalls would be most of what is measured), launches INOSYNC (default bin/inosync) on it and waits for the startup
rsync. Then 60 new files, 30 ms apart, each awaited on the target:
utime+stime of the daemon and cutime+cstime of its reaped children (its
rsyncs) from /proc/PID/stat across the writes. --drift instead writes
3,000 files four times and prints VmRSS and RssAnon after each round.
Run it as the only load on the machine.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

binp = next((a for a in sys.argv[1:] if not a.startswith("--")), "bin/inosync")
drift = "--drift" in sys.argv[1:]
base = tempfile.mkdtemp(prefix="changecpu-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
src, dst = os.path.join(base, "src"), os.path.join(base, "dst")
for i in range(2000):
    os.makedirs(os.path.join(src, "d%d" % (i // 100), "e%d" % i))
os.makedirs(dst)
cfg = os.path.join(base, "cfg.py")
with open(cfg, "w") as f:
    f.write('wpaths = ["%s/"]\nrpaths = ["%s/"]\nrnodes = [""]\nedelay = 0\n' % (src, dst))
logp = os.path.join(base, "log")
log = open(logp, "w")
p = subprocess.Popen([binp, "-c", cfg, "--log-format=json"], stdout=log, stderr=log)
try:
    deadline = time.time() + 120
    while '"full":true' not in open(logp).read():
        if time.time() > deadline or p.poll() is not None:
            sys.exit("no startup rsync; log in %s" % logp)
        time.sleep(0.05)
    time.sleep(2)

    def stat():
        f = open("/proc/%d/stat" % p.pid).read().rsplit(")", 1)[1].split()
        return int(f[11]) + int(f[12]), int(f[13]) + int(f[14])

    def mem():
        out = {}
        for line in open("/proc/%d/status" % p.pid):
            k, v = line.split(":", 1)
            if k in ("VmRSS", "RssAnon"):
                out[k] = "%.1f MiB" % (int(v.split()[0]) / 1024)
        return out

    d = os.path.join(src, "d0", "e1")
    if drift:
        print("ready", mem())
        for rnd in range(4):
            for i in range(3000):
                with open(os.path.join(d, "f%d" % i), "w") as f:
                    f.write("%d-%d\n" % (rnd, i))
            time.sleep(3)
            print("after 3000 writes, round", rnd + 1, mem())
    else:
        hz = os.sysconf("SC_CLK_TCK")
        own0, kids0 = stat()
        t0 = time.time()
        lat = []
        for i in range(60):
            a = time.time()
            name = "new%d" % i
            with open(os.path.join(d, name), "w") as f:
                f.write("x%d\n" % i)
            target = os.path.join(dst, "d0", "e1", name)
            while True:
                try:
                    if open(target).read() == "x%d\n" % i:
                        break
                except FileNotFoundError:
                    pass
                time.sleep(0.0005)
            lat.append((time.time() - a) * 1000)
            nxt = t0 + (i + 1) * 0.03
            if nxt > time.time():
                time.sleep(nxt - time.time())
        time.sleep(2.5)
        own1, kids1 = stat()
        own, kids = (own1 - own0) * 1000 / hz, (kids1 - kids0) * 1000 / hz
        lat.sort()
        print("daemon %.0f ms, its rsyncs %.0f ms for 60 changes (%.1f ms each); latency p50 %.1f ms, slowest %.1f ms"
              % (own, kids, kids / 60, lat[30], lat[-1]))
finally:
    p.terminate()
    p.wait()
    shutil.rmtree(base)
