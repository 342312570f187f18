package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// fanout and filesPerDir follow ANCHORS' `mktree.py N 2`: N directories with
// fan-out 20 and 2 small files in each.
const (
	fanout      = 20
	filesPerDir = 2
)

// dirRel is the path of directory i (0-based, breadth first): d0…d19 sit in
// the root, and directory k holds d(20k+20)…d(20k+39), so d420 is
// d0/d20/d420, three levels down.
func dirRel(i int) string {
	var parts []string
	for {
		parts = append(parts, fmt.Sprintf("d%d", i))
		if i < fanout {
			break
		}
		i = i/fanout - 1
	}
	for l, r := 0, len(parts)-1; l < r; l, r = l+1, r-1 {
		parts[l], parts[r] = parts[r], parts[l]
	}
	return filepath.Join(parts...)
}

// mktree makes root with n directories (fan-out 20) and 2 small files in
// each.
func mktree(root string, n int) error { return mktreeFiles(root, n, filesPerDir, true) }

// mktreeFiles makes root with n directories (fan-out 20) and files files
// in each, small ones or, without content, empty ones (which take no page
// of a tmpfs).
func mktreeFiles(root string, n, files int, content bool) error {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		p := filepath.Join(root, dirRel(i))
		if err := os.Mkdir(p, 0o755); err != nil {
			return err
		}
		for f := 0; f < files; f++ {
			body := ""
			if content {
				body = fmt.Sprintf("file %d of directory %d\n", f, i)
			}
			if err := os.WriteFile(filepath.Join(p, fmt.Sprintf("f%d", f)), []byte(body), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// tree is a source and a target that are made identical before each launch.
type tree struct {
	name string
	dirs int
	src  string
	dst  string
}

// resync makes dst identical to src with `rsync -a --delete`.
func (b *bench) resync(t *tree) error {
	out, err := exec.Command(b.rsyncBin, "-a", "--delete", t.src+"/", t.dst+"/").CombinedOutput()
	if err != nil {
		return fmt.Errorf("rsync -a --delete %s: %v: %s", t.name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// build makes the tree's source and an identical target.
func (b *bench) build(t *tree) error {
	t0 := time.Now()
	if err := mktree(t.src, t.dirs); err != nil {
		return err
	}
	made := time.Since(t0)
	if err := os.MkdirAll(t.dst, 0o755); err != nil {
		return err
	}
	if err := b.resync(t); err != nil {
		return err
	}
	b.logf("built the %s tree in %.1fs and its copy (rsync -a) in %.1fs", t.name, made.Seconds(), (time.Since(t0) - made).Seconds())
	return nil
}
