package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inosync/inosync/internal/testutil"
)

// A file written slowly (20 MiB over about 2 s, one writer keeping it open)
// is synced once its writer has closed it: the target never holds a part
// of it, and it takes one run, not one per batch of writes.
func TestSlowWriteSyncedAfterClose(t *testing.T) { slowWriteSyncedAfterClose(t, "") }

func TestSlowWriteSyncedAfterCloseFanotify(t *testing.T) {
	needFanotify(t)
	slowWriteSyncedAfterClose(t, fanotifyCfg)
}

// slowWriteSyncedAfterClose: extra is added to the config.
func slowWriteSyncedAfterClose(t *testing.T, extra string) {
	o, _, src, dst := syncedTree(t, extra)
	runsBefore := strings.Count(o.logs.String(), `"message":"rsync"`)

	start0 := time.Now()
	f, err := os.Create(filepath.Join(src, "big"))
	must(t, err)
	chunk := make([]byte, 512<<10)
	partial := 0
	for i := range 40 {
		chunk[0] = byte(i)
		_, err := f.Write(chunk)
		must(t, err)
		// The pace of a slow upload; the target is looked at meanwhile.
		deadline := time.Now().Add(50 * time.Millisecond)
		for time.Now().Before(deadline) {
			if _, err := os.Stat(filepath.Join(dst, "big")); err == nil {
				partial++
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	must(t, f.Close())
	testutil.Eventually(t, 20*time.Second, "the whole file on the target", func() bool {
		fi, err := os.Stat(filepath.Join(dst, "big"))
		return err == nil && fi.Size() == 40*int64(len(chunk))
	})
	want, err := os.ReadFile(filepath.Join(src, "big"))
	must(t, err)
	if got, err := os.ReadFile(filepath.Join(dst, "big")); err != nil || !bytes.Equal(got, want) {
		t.Errorf("the target's copy differs from the source: %v", err)
	}
	t.Logf("synced %v after the write began", time.Since(start0).Round(time.Millisecond))
	if partial > 0 {
		t.Errorf("the target held a partial copy in %d samples while the file was written", partial)
	}
	runs := strings.Count(o.logs.String(), `"message":"rsync"`) - runsBefore
	if runs > 3 {
		t.Errorf("%d rsync runs for one file written slowly, want at most 3", runs)
	}
	t.Logf("%d rsync runs for the slow write", runs)
}

// A file still being written when inosync stops is synced as it is, and
// the stop says so: a warning naming it, and the status file's last
// report, since its copy on the node may be partial.
func TestStopWhileWriting(t *testing.T) {
	o, base, src, _ := syncedTree(t, `status_file = "@BASE@/status.txt"
`)
	f, err := os.Create(filepath.Join(src, "big"))
	must(t, err)
	defer f.Close()
	_, err = f.Write(make([]byte, 64<<10))
	must(t, err)
	testutil.Eventually(t, 10*time.Second, "the open file held back", func() bool {
		r, _ := o.report(t)
		return node(t, r, src+"/").Pending >= 1
	})
	must(t, o.stop(t))
	if !strings.Contains(o.logs.String(), "still being written as inosync stopped") || !strings.Contains(o.logs.String(), `"open":["big"]`) {
		t.Errorf("no warning naming big:\n%s", o.logs.String())
	}
	b, err := os.ReadFile(filepath.Join(base, "status.txt"))
	must(t, err)
	if !strings.Contains(string(b), "a file was still being written at the stop and may be partial on the nodes until it is synced again: "+src+"/big") {
		t.Errorf("the last status report does not name big:\n%s", b)
	}
}
