package main

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inosync/inosync/internal/testutil"
)

// sshKeys are the keys a test's sshd and ssh use.
type sshKeys struct {
	dir, host, user string
}

func newSSHKeys(t *testing.T) *sshKeys {
	t.Helper()
	for _, p := range []string{"/usr/sbin/sshd", "/usr/bin/ssh", "/usr/bin/ssh-keygen"} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("needs %s (apt-get install openssh-server openssh-client)", p)
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("the test sshd logs in as root")
	}
	k := &sshKeys{dir: t.TempDir()}
	k.host, k.user = filepath.Join(k.dir, "host_key"), filepath.Join(k.dir, "user_key")
	for _, f := range []string{k.host, k.user} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
	}
	pub, err := os.ReadFile(k.user + ".pub")
	must(t, err)
	must(t, os.WriteFile(filepath.Join(k.dir, "authorized_keys"), pub, 0o600))
	must(t, os.MkdirAll("/run/sshd", 0o755)) // sshd's privilege separation dir
	return k
}

// rsh is the --rsh value for extra: key login, no host key prompts.
func (k *sshKeys) rsh(port int) string {
	return fmt.Sprintf("ssh -p %d -i %s -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR", port, k.user)
}

// freePort finds a TCP port free on every given loopback address.
func freePort(t *testing.T, addrs ...string) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", addrs[0]+":0")
		must(t, err)
		port := l.Addr().(*net.TCPAddr).Port
		ok := true
		for _, a := range addrs[1:] {
			l2, err := net.Listen("tcp", fmt.Sprintf("%s:%d", a, port))
			if err != nil {
				ok = false
				break
			}
			_ = l2.Close()
		}
		_ = l.Close()
		if ok {
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// startSSHD runs a real sshd on addr:port until the test ends, and waits
// until it accepts connections. It returns sshd's log.
func (k *sshKeys) startSSHD(t *testing.T, addr string, port int) *testutil.LockedBuffer {
	t.Helper()
	cmd := exec.Command("/usr/sbin/sshd", "-D", "-e", "-p", fmt.Sprint(port), "-h", k.host,
		"-o", "ListenAddress="+addr, "-o", "AuthorizedKeysFile="+filepath.Join(k.dir, "authorized_keys"),
		"-o", "StrictModes=no", "-o", "PermitRootLogin=prohibit-password", "-o", "PidFile=none")
	var logs testutil.LockedBuffer
	cmd.Stderr = &logs
	cmd.WaitDelay = time.Second // its sessions may outlive it, holding stderr
	must(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("sshd %s log:\n%s", addr, logs.String())
		}
	})
	testutil.Eventually(t, 10*time.Second, "sshd on "+addr, func() bool {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("%s:%d", addr, port), time.Second)
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	})
	return &logs
}

// TestDaemonRemoteNodes syncs to two nodes over a real ssh: the first is up
// and keeps syncing; the second is down at first and catches up once its
// sshd starts.
func TestDaemonRemoteNodes(t *testing.T) { daemonRemoteNodes(t, "") }

func TestDaemonRemoteNodesFanotify(t *testing.T) {
	needFanotify(t)
	daemonRemoteNodes(t, fanotifyCfg)
}

// daemonRemoteNodes syncs to two nodes over ssh, one down at first, with
// cfgExtra added to the config.
func daemonRemoteNodes(t *testing.T, cfgExtra string) {
	testutil.NeedRsync(t)
	k := newSSHKeys(t)
	port := freePort(t, "127.0.0.1", "127.0.0.2")
	sshd1 := k.startSSHD(t, "127.0.0.1", port)

	base := t.TempDir()
	src, dst1, dst2 := filepath.Join(base, "src"), filepath.Join(base, "node1"), filepath.Join(base, "node2")
	writeFile(t, filepath.Join(src, "first"), "1")
	must(t, os.MkdirAll(dst1, 0o755))
	must(t, os.MkdirAll(dst2, 0o755))
	// Both nodes are this machine: the node part carries each one's own
	// directory, and rpath "/" ends it (the target is node + rpath).
	cfg := fmt.Sprintf(`wpaths = [%q]
rpaths = ["/"]
rnodes = ["root@127.0.0.1:%s", "root@127.0.0.2:%s"]
extra = "--rsh='%s'"
edelay = 0
`, src+"/", dst1, dst2, k.rsh(port)) + cfgExtra
	d := startDaemon(t, src, "", cfg, false)

	converges(t, src, dst1, "node 1's initial sync over ssh")
	writeFile(t, filepath.Join(src, "second"), "2")
	converges(t, src, dst1, "node 1 syncing while node 2 is down")
	testutil.Eventually(t, 20*time.Second, "node 2's failures to be retried", func() bool {
		return strings.Count(d.logs.String(), `"message":"rsync failed again"`) >= 1
	})
	if got := tree(dst2); got != "" {
		t.Fatalf("node 2 is down but holds:\n%s", got)
	}
	k.startSSHD(t, "127.0.0.2", port)
	converges(t, src, dst2, "node 2 catching up once its sshd is up")
	writeFile(t, filepath.Join(src, "third"), "3")
	converges(t, src, dst1, "node 1 after the catch-up")
	converges(t, src, dst2, "node 2 after the catch-up")
	reusesOneConnection(t, src, dst1, sshd1)
	must(t, d.stop(t))
}

// Per-node options: two real sshd on two ports, each node reached through
// its own node(extra=…), one with a bandwidth limit of its own.
func TestNodeOwnOptions(t *testing.T) {
	testutil.NeedRsync(t)
	k := newSSHKeys(t)
	port1, port2 := freePort(t, "127.0.0.1"), freePort(t, "127.0.0.1")
	sshd1, sshd2 := k.startSSHD(t, "127.0.0.1", port1), k.startSSHD(t, "127.0.0.1", port2)
	base := t.TempDir()
	src, dst1, dst2 := filepath.Join(base, "src"), filepath.Join(base, "node1"), filepath.Join(base, "node2")
	writeFile(t, filepath.Join(src, "first"), "1")
	must(t, os.MkdirAll(dst1, 0o755))
	must(t, os.MkdirAll(dst2, 0o755))
	cfg := fmt.Sprintf(`sync(%q, "/", delay = 0, nodes = [
    node("root@127.0.0.1:%s", extra = "--rsh='%s'"),
    node("root@127.0.0.1:%s", extra = "--rsh='%s'", rspeed = 100000),
])
`, src+"/", dst1, k.rsh(port1), dst2, k.rsh(port2))
	d := startDaemon(t, src, "", cfg, false)
	converges(t, src, dst1, "node 1 over its port")
	converges(t, src, dst2, "node 2 over its port")
	writeFile(t, filepath.Join(src, "second"), "2")
	converges(t, src, dst1, "a change on node 1")
	converges(t, src, dst2, "a change on node 2")
	for i, l := range []*testutil.LockedBuffer{sshd1, sshd2} {
		if !strings.Contains(l.String(), "Accepted publickey") {
			t.Errorf("sshd %d saw no login:\n%s", i+1, l.String())
		}
	}
	if !strings.Contains(d.logs.String(), "--bwlimit=100000") {
		t.Error("node 2's rspeed is not in any command line")
	}
	must(t, d.stop(t))
}

func TestRenamedDirNotSentAgain(t *testing.T) { renamedDirNotSentAgain(t, "") }

func TestRenamedDirNotSentAgainFanotify(t *testing.T) {
	needFanotify(t)
	renamedDirNotSentAgain(t, fanotifyCfg)
}

// renamedDirNotSentAgain renames a directory of 64 files (16 MiB) in a
// tree, to a node over ssh, with cfgExtra added to the config: rsync's own
// --stats say that under 1 % of its bytes were sent, and the node ends
// equal to the source.
func renamedDirNotSentAgain(t *testing.T, cfgExtra string) {
	testutil.NeedRsync(t)
	k := newSSHKeys(t)
	port := freePort(t, "127.0.0.1")
	k.startSSHD(t, "127.0.0.1", port)
	base := t.TempDir()
	src, dst := filepath.Join(base, "src"), filepath.Join(base, "node")
	const files, size = 64, 256 << 10
	data := make([]byte, size)
	for i := range files {
		_, _ = rand.Read(data)
		writeFile(t, filepath.Join(src, "media/old", fmt.Sprintf("clip%03d", i)), string(data))
	}
	must(t, os.MkdirAll(dst, 0o755))
	cfg := fmt.Sprintf(`sync(%q, %q, nodes = ["root@127.0.0.1:"], delay = 0)
extra = "--rsh='%s' --stats"
`, src+"/", dst+"/", k.rsh(port)) + cfgExtra
	d := startDaemon(t, src, "", cfg, false)
	converges(t, src, dst, "the initial sync over ssh")
	off := len(d.logs.String())
	must(t, os.Rename(filepath.Join(src, "media/old"), filepath.Join(src, "media/new")))
	converges(t, src, dst, "the renamed directory")
	must(t, d.stop(t))
	var sent int64
	copied := false
	for _, ln := range strings.Split(d.logs.String()[off:], "\n") {
		var l struct {
			Message string `json:"message"`
			Sent    int64  `json:"sent"`
			To      string `json:"to"`
		}
		if json.Unmarshal([]byte(ln), &l) != nil {
			continue
		}
		switch l.Message {
		case "rename copied on the target from its old name":
			copied = l.To == "media/new"
			sent += l.Sent
		case "rsync":
			sent += l.Sent
		}
	}
	if !copied {
		t.Fatalf("the rename was not copied on the node; log:\n%s", d.logs.String()[off:])
	}
	if total := int64(files * size); sent == 0 || sent*100 >= total {
		t.Errorf("rsync sent %d bytes for the rename of %d: want under 1 %%", sent, total)
	}
	t.Logf("the rename of %d bytes sent %d", files*size, sent)
}

// A node over ssh that a reload adds reuses one connection for its later
// runs, as one there from the start does.
func TestReloadedRemoteNodeReusesConnection(t *testing.T) {
	testutil.NeedRsync(t)
	k := newSSHKeys(t)
	port := freePort(t, "127.0.0.1")
	sshd := k.startSSHD(t, "127.0.0.1", port)
	base := t.TempDir()
	src, local, remote := filepath.Join(base, "src"), filepath.Join(base, "local"), filepath.Join(base, "remote")
	writeFile(t, filepath.Join(src, "first"), "1")
	must(t, os.MkdirAll(remote, 0o755))
	o := startObserved(t, base, `sync("@BASE@/src/", "@BASE@/local/", nodes = [""], delay = 0)
`)
	converges(t, src, local, "the local node's initial sync")
	writeCfg(t, o.cfg, base, fmt.Sprintf(`sync("@BASE@/src/", "@BASE@/local/", nodes = [""], delay = 0)
sync("@BASE@/src/", "/", delay = 0, nodes = [node("root@127.0.0.1:%s", extra = "--rsh='%s'")])
`, remote, k.rsh(port)))
	if code, out, errs := o.client("reload"); code != 0 {
		t.Fatalf("reload exit %d: %s%s", code, out, errs)
	}
	converges(t, src, remote, "the added node's initial sync over ssh")
	reusesOneConnection(t, src, remote, sshd)
}

// reusesOneConnection makes three changes in src, each awaited on dst,
// and checks that the node's sshd saw 2 logins in all: the initial sync's
// and the one connection the later runs reuse.
func reusesOneConnection(t *testing.T, src, dst string, sshd *testutil.LockedBuffer) {
	t.Helper()
	for i := range 3 {
		writeFile(t, filepath.Join(src, fmt.Sprintf("more%d", i)), "x")
		converges(t, src, dst, "another change")
	}
	if n := strings.Count(sshd.String(), "Accepted publickey"); n != 2 {
		t.Errorf("the sshd accepted %d logins, want 2 (initial + one reused connection):\n%s", n, sshd.String())
	}
}
