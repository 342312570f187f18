package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The rename row (part of -scale): a directory of renameFiles files of
// renameFileMiB MiB of random bytes is renamed in a tree whose target is a
// node over ssh, a real sshd on 127.0.0.1 started by the harness. Every
// byte between the daemon's ssh and that sshd passes through a relay in
// the harness that counts it, so the row compares what each daemon puts
// on the wire to carry the rename, whatever its way of doing it.

const (
	renameFiles   = 100
	renameFileMiB = 10
	renameTimeout = 10 * time.Minute
)

// renameResult is what one daemon sent for the rename.
type renameResult struct {
	wire      int64   // bytes both ways between ssh and sshd, rename → quiet
	rsyncSent int64   // inosync: the "sent" figures rsync's --stats gave (-1 for lsyncd)
	copied    bool    // inosync logged the rename as copied on the target
	landed    float64 // seconds from the rename until the target held it; -1 if never
	err       string
}

// sshNode is the harness's ssh node: an sshd on 127.0.0.1, reached
// through a counting relay, and an `ssh` (dir, first in the daemons'
// PATH) that logs in there with the harness's key.
type sshNode struct {
	dir   string // keys, sshd's config, the ssh wrapper
	ssh   string // the wrapper: ssh with the harness's config file
	sshd  *exec.Cmd
	relay *byteRelay
}

// startSSHNode starts sshd and its relay under dir.
func startSSHNode(dir string) (*sshNode, error) {
	for _, p := range []string{"/usr/sbin/sshd", "/usr/bin/ssh", "/usr/bin/ssh-keygen"} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("the rename row needs %s (apt-get install openssh-server openssh-client)", p)
		}
	}
	n := &sshNode{dir: dir, ssh: filepath.Join(dir, "ssh")}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	host, user := filepath.Join(dir, "host_key"), filepath.Join(dir, "user_key")
	for _, f := range []string{host, user} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("ssh-keygen: %v: %s", err, out)
		}
	}
	pub, err := os.ReadFile(user + ".pub")
	if err != nil {
		return nil, err
	}
	keys := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(keys, pub, 0o600); err != nil {
		return nil, err
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil { // sshd's privilege separation dir
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	sshdPort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	n.sshd = exec.Command("/usr/sbin/sshd", "-D", "-e", "-p", fmt.Sprint(sshdPort), "-h", host,
		"-o", "ListenAddress=127.0.0.1", "-o", "AuthorizedKeysFile="+keys,
		"-o", "StrictModes=no", "-o", "PermitRootLogin=prohibit-password", "-o", "PidFile=none")
	log, err := os.Create(filepath.Join(dir, "sshd.log"))
	if err != nil {
		return nil, err
	}
	defer log.Close()
	n.sshd.Stdout, n.sshd.Stderr = log, log
	if err := n.sshd.Start(); err != nil {
		return nil, fmt.Errorf("start sshd: %w", err)
	}
	if n.relay, err = newByteRelay(fmt.Sprintf("127.0.0.1:%d", sshdPort)); err != nil {
		n.stop()
		return nil, err
	}
	cfg := filepath.Join(dir, "ssh_config")
	text := fmt.Sprintf("Host *\n  HostName 127.0.0.1\n  Port %d\n  User root\n  IdentityFile %s\n  IdentitiesOnly yes\n"+
		"  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  BatchMode yes\n  LogLevel ERROR\n", n.relay.port(), user)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		n.stop()
		return nil, err
	}
	if err := os.WriteFile(n.ssh, []byte("#!/bin/sh\nexec /usr/bin/ssh -F "+cfg+" \"$@\"\n"), 0o755); err != nil {
		n.stop()
		return nil, err
	}
	// sshd answers once it listens: poll a login with a deadline.
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := exec.Command(n.ssh, "127.0.0.1", "true").CombinedOutput()
		if err == nil {
			return n, nil
		}
		if time.Now().After(deadline) {
			n.stop()
			return nil, fmt.Errorf("no ssh login to the harness's sshd after 10 s: %v: %s", err, strings.TrimSpace(string(out)))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends sshd and the relay.
func (n *sshNode) stop() {
	if n.relay != nil {
		n.relay.close()
	}
	if n.sshd != nil && n.sshd.Process != nil {
		_ = n.sshd.Process.Kill()
		_ = n.sshd.Wait()
	}
}

// env is the environment of a daemon that reaches the node: the wrapper's
// directory first in PATH, so that rsync's and the daemon's `ssh` is it.
func (n *sshNode) env() []string {
	return append(os.Environ(), "PATH="+n.dir+":"+os.Getenv("PATH"))
}

// byteRelay forwards TCP connections to a target and counts the bytes it
// carries, both ways.
type byteRelay struct {
	ln     net.Listener
	target string
	n      atomic.Int64
	wg     sync.WaitGroup
}

func newByteRelay(target string) (*byteRelay, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &byteRelay{ln: ln, target: target}
	r.wg.Add(1)
	go r.accept()
	return r, nil
}

func (r *byteRelay) port() int { return r.ln.Addr().(*net.TCPAddr).Port }

// bytes is the count so far.
func (r *byteRelay) bytes() int64 { return r.n.Load() }

func (r *byteRelay) accept() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		go r.pipe(c)
	}
}

// pipe carries one connection until either side closes it.
func (r *byteRelay) pipe(c net.Conn) {
	defer c.Close()
	s, err := net.Dial("tcp", r.target)
	if err != nil {
		return
	}
	defer s.Close()
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		// Counted as it goes: a kept ssh connection (inosync's) outlives
		// the measurement.
		_, _ = io.Copy(countingWriter{dst, &r.n}, src)
		_ = dst.(*net.TCPConn).CloseWrite()
		done <- struct{}{}
	}
	go cp(s, c)
	go cp(c, s)
	<-done
	<-done
}

// close stops accepting and waits for the accept loop; open connections
// end with sshd.
func (r *byteRelay) close() {
	_ = r.ln.Close()
	r.wg.Wait()
}

// countingWriter adds every byte written through it to n.
type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	k, err := c.w.Write(p)
	c.n.Add(int64(k))
	return k, err
}

// makeRenameDir writes the directory that is renamed: renameFiles files of
// random bytes (they do not compress).
func makeRenameDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	rng := rand.NewChaCha8([32]byte{1})
	buf := make([]byte, renameFileMiB<<20)
	for i := range renameFiles {
		_, _ = rng.Read(buf)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d.bin", i)), buf, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// renameLanded says whether dst holds the renamed directory whole and no
// longer the old one.
func renameLanded(dst string) bool {
	if _, err := os.Lstat(filepath.Join(dst, "old")); !errors.Is(err, os.ErrNotExist) {
		return false
	}
	for i := range renameFiles {
		st, err := os.Stat(filepath.Join(dst, "new", fmt.Sprintf("f%03d.bin", i)))
		if err != nil || st.Size() != renameFileMiB<<20 {
			return false
		}
	}
	return true
}

// renameRows measures the rename with each daemon in kinds, on a source
// and target under base.
func (b *bench) renameRows(base string, kinds []string) (map[string]renameResult, error) {
	node, err := startSSHNode(filepath.Join(b.tmp, "ssh"))
	if err != nil {
		return nil, err
	}
	defer node.stop()
	t := &tree{name: "rename", src: filepath.Join(base, "rename-src"), dst: filepath.Join(base, "rename-dst")}
	t0 := time.Now()
	if err := makeRenameDir(filepath.Join(t.src, "old")); err != nil {
		return nil, err
	}
	b.logf("wrote the %d MiB directory to rename in %.1fs", renameFiles*renameFileMiB, time.Since(t0).Seconds())
	res := map[string]renameResult{}
	for _, k := range kinds {
		// Every daemon starts from the same state: old/ in the source and,
		// in sync, in the target (whatever the last daemon left there).
		for _, root := range []string{t.src, t.dst} {
			if err := renameBack(root); err != nil {
				return nil, err
			}
		}
		if err := b.resync(t); err != nil {
			return nil, err
		}
		r := b.renameOne(k, node, t.src, t.dst)
		res[k] = r
		b.logf("  %s rename: %.1f MiB on the wire, rsync sent %d bytes, landed after %s %s",
			k, float64(r.wire)/(1<<20), r.rsyncSent, fmtSec(r.landed), r.err)
	}
	return res, nil
}

// renameBack puts new/ under root back as old/ (or drops it where old/ is
// there too).
func renameBack(root string) error {
	newDir, oldDir := filepath.Join(root, "new"), filepath.Join(root, "old")
	if _, err := os.Lstat(newDir); err != nil {
		return nil
	}
	if _, err := os.Lstat(oldDir); err == nil {
		return os.RemoveAll(newDir)
	}
	return os.Rename(newDir, oldDir)
}

// renameOne launches kind on src → node:dst, renames old to new once the
// daemon is ready and quiet, and counts what crosses the wire until the
// target holds new/ and the daemon is quiet again.
func (b *bench) renameOne(kind string, node *sshNode, src, dst string) renameResult {
	r := renameResult{rsyncSent: -1, landed: -1}
	d, err := b.launchTo(kind, src, dst, node)
	if err != nil {
		r.err = err.Error()
		return r
	}
	defer d.stop()
	if _, err := d.waitReady(renameTimeout); err != nil {
		r.err = err.Error()
		return r
	}
	if err := d.waitQuiet(time.Second, time.Minute); err != nil {
		r.err = fmt.Sprintf("not quiet after its start: %v", err)
		return r
	}
	off, before, t0 := d.logSize(), node.relay.bytes(), time.Now()
	if err := os.Rename(filepath.Join(src, "old"), filepath.Join(src, "new")); err != nil {
		r.err = err.Error()
		return r
	}
	for !renameLanded(dst) {
		if time.Since(t0) > renameTimeout || !d.alive() {
			r.err = fmt.Sprintf("the target did not hold new/ whole without old/ after %s (alive %v)", time.Since(t0).Round(time.Second), d.alive())
			return r
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.landed = time.Since(t0).Seconds()
	if err := d.waitQuiet(time.Second, time.Minute); err != nil {
		r.err = fmt.Sprintf("not quiet after the rename: %v", err)
	}
	r.wire = node.relay.bytes() - before
	if isInosync(kind) {
		r.rsyncSent, r.copied = inosyncSent(d.logFrom(off))
	}
	return r
}

// inosyncSent sums the bytes rsync's --stats said it sent in inosync's log
// lines, and says whether a rename was copied on the target.
func inosyncSent(lines [][]byte) (int64, bool) {
	var sent int64
	copied := false
	for _, ln := range lines {
		var l struct {
			Message string `json:"message"`
			Sent    int64  `json:"sent"`
		}
		if json.Unmarshal(ln, &l) != nil {
			continue
		}
		switch l.Message {
		case "rename copied on the target from its old name":
			copied = true
			sent += l.Sent
		case "rsync":
			sent += l.Sent
		}
	}
	return sent, copied
}

// renameReport is the rename row's section of the report, with the
// issue's target for the fanotify watcher.
func renameReport(kinds []string, res map[string]renameResult) string {
	total := int64(renameFiles * renameFileMiB << 20)
	var sb strings.Builder
	writeTableHead(&sb, fmt.Sprintf("### A directory of %d MiB (%d files) renamed, to a node over ssh", renameFiles*renameFileMiB, renameFiles), kinds)
	row := func(name string, val func(renameResult) string, target, status string) {
		fmt.Fprintf(&sb, "| %s |", name)
		for _, k := range kinds {
			fmt.Fprintf(&sb, " %s |", val(res[k]))
		}
		fmt.Fprintf(&sb, " %s | %s |\n", target, status)
	}
	fan, ok := res[kindFan]
	status := ""
	if ok {
		status = "missed"
		if fan.err == "" && fan.rsyncSent >= 0 && fan.rsyncSent*100 < total && fan.wire*100 < total {
			status = "met"
		}
	}
	row("bytes on the wire (ssh, both ways)", func(r renameResult) string {
		return fmt.Sprintf("%s (%.2f %%)", fmtBytes(r.wire), 100*float64(r.wire)/float64(total))
	}, "< 1 % of the directory", status)
	row("sent, by rsync's --stats", func(r renameResult) string {
		if r.rsyncSent < 0 {
			return "–"
		}
		return fmt.Sprintf("%s (%.2f %%)", fmtBytes(r.rsyncSent), 100*float64(r.rsyncSent)/float64(total))
	}, "< 1 %", status)
	row("rename → the target holds it", func(r renameResult) string { return fmtSec(r.landed) }, "", "")
	row("how", func(r renameResult) string {
		switch {
		case r.copied:
			return "rebuilt on the target from its old name (rsync)"
		case r.rsyncSent >= 0:
			return "sent again"
		default:
			return "`mv` on the target through ssh"
		}
	}, "", "")
	for _, k := range kinds {
		if e := res[k].err; e != "" {
			fmt.Fprintf(&sb, "\n%s: %s\n", k, firstLineOf(e))
		}
	}
	sb.WriteString("\n")
	return sb.String()
}

// fmtBytes prints a byte count in the unit that suits it.
func fmtBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
