package rsync

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/inosync/inosync/internal/testutil"
)

func TestMoveArgv(t *testing.T) {
	st := Settings{Rsync: "/usr/bin/rsync", Bwlimit: "0"}
	for _, c := range []struct {
		name, source, dest string
		m                  Move
		dir                bool
		want               string
	}{
		{"a directory", "/s/", "web1:/t/", Move{From: "old", To: "a/new"}, true,
			"/usr/bin/rsync -ltrp --bwlimit=0 --modify-window=-1 --stats --copy-dest=../../old /s/a/new/ web1:/t/a/new/"},
		{"a file in its directory", "/s/", "/t", Move{From: "d/f", To: "d/g"}, false,
			"/usr/bin/rsync -ltrp --bwlimit=0 --modify-window=-1 --stats --no-whole-file --ignore-times --fuzzy /s/d/g /t/d/"},
		{"a file to another directory", "/s/", "/t/", Move{From: "d/f", To: "e/x/g"}, false,
			"/usr/bin/rsync -ltrp --bwlimit=0 --modify-window=-1 --stats --no-whole-file --ignore-times --fuzzy --fuzzy --copy-dest=../../d /s/e/x/g /t/e/x/"},
		{"a file from the root", "/s/", "/t/", Move{From: "f", To: "e/g"}, false,
			"/usr/bin/rsync -ltrp --bwlimit=0 --modify-window=-1 --stats --no-whole-file --ignore-times --fuzzy --fuzzy --copy-dest=.. /s/e/g /t/e/"},
		{"a node's home directory", "/s/", "web1:", Move{From: "old", To: "new"}, true,
			"/usr/bin/rsync -ltrp --bwlimit=0 --modify-window=-1 --stats --copy-dest=../old /s/new/ web1:new/"},
		{"a source without its slash", "/srv/www", "/t/", Move{From: "old", To: "new"}, true,
			"/usr/bin/rsync -ltrp --bwlimit=0 --modify-window=-1 --stats --copy-dest=../../www/old /srv/www/new/ /t/www/new/"},
	} {
		if got := Quote(moveArgv(st, c.source, c.dest, c.m, c.dir, false)); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
	want := "/usr/bin/rsync -ltrp --bwlimit=0 --modify-window=-1 --stats --link-dest=../../old /s/a/new/ web1:/t/a/new/"
	if got := Quote(moveArgv(st, "/s/", "web1:/t/", Move{From: "old", To: "a/new"}, true, true)); got != want {
		t.Errorf("a directory linked:\n got %s\nwant %s", got, want)
	}
}

// A renamed directory is hard-linked from its old name only where the run
// deletes the old name and nothing writes in place.
func TestLinkable(t *testing.T) {
	src := t.TempDir()
	must(t, os.Mkdir(filepath.Join(src, "back"), 0o755))
	for _, c := range []struct {
		name string
		st   Settings
		from string
		want bool
	}{
		{"the old name gone, the run deletes", Settings{}, "old", true},
		{"delete = \"running\"", Settings{Delete: DeleteRunning}, "old", true},
		{"delete = False", Settings{Delete: DeleteNever}, "old", false},
		{"delete = \"startup\"", Settings{Delete: DeleteStartup}, "old", false},
		{"the old name back in the source", Settings{}, "back", false},
		{"--inplace", Settings{Extra: []string{"-a", "--inplace"}}, "old", false},
		{"--append-verify", Settings{Extra: []string{"--append-verify"}}, "old", false},
		{"--max-delete", Settings{Extra: []string{"--max-delete=100"}}, "old", false},
		{"--backup-dir", Settings{Extra: []string{"--backup-dir=/var/bak"}}, "old", false},
		{"-avb", Settings{Extra: []string{"-avb"}}, "old", false},
		{"-avz", Settings{Extra: []string{"-avz"}}, "old", true},
	} {
		if got := linkable(c.st, src+"/", Move{From: c.from, To: "new"}); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestMovesSafe(t *testing.T) {
	for _, c := range []struct {
		name string
		j    Job
		want bool
	}{
		{"no rules", Job{}, true},
		{"unanchored patterns", Job{Settings: Settings{Excludes: []string{"*.tmp", "cache/"}}}, true},
		{"an anchored pattern", Job{Settings: Settings{Excludes: []string{"/cache/"}}}, false},
		{"a pattern with a directory", Job{Settings: Settings{Excludes: []string{"a/b"}}}, false},
		{"a filter in extra", Job{Settings: Settings{Extra: []string{"--filter=- x"}}}, false},
		{"-avC in extra", Job{Settings: Settings{Extra: []string{"-avC"}}}, false},
		{"-av in extra", Job{Settings: Settings{Extra: []string{"-av", "--compress"}}}, true},
		{"an exclude function", Job{Exclude: func(string, bool) bool { return false }}, false},
		{"a ** pattern", Job{Settings: Settings{Excludes: []string{"e**file"}}}, false},
		{"a relative --backup-dir", Job{Settings: Settings{Extra: []string{"--backup", "--backup-dir=bak"}}}, false},
		{"an absolute --backup-dir", Job{Settings: Settings{Extra: []string{"--backup", "--backup-dir=/var/bak"}}}, true},
		{"--link-dest in extra", Job{Settings: Settings{Extra: []string{"--link-dest=/prev"}}}, false},
		{"-m in extra", Job{Settings: Settings{Extra: []string{"-am"}}}, false},
	} {
		if got := movesSafe(c.j); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// A directory and a file renamed within the tree are copied on the target
// from their old names before the run: rsync sends next to none of their
// data, and the target ends equal to the source.
func TestDispatchMovesCopiedOnTarget(t *testing.T) {
	rs := testutil.NeedRsync(t)
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src")+"/", filepath.Join(dir, "dst")
	data := make([]byte, 1<<20)
	for i := range 8 {
		_, _ = rand.Read(data)
		write(t, filepath.Join(src, "old", "f"+string(rune('a'+i))), string(data))
	}
	_, _ = rand.Read(data)
	write(t, filepath.Join(src, "d1", "big"), string(data))
	must(t, os.MkdirAll(filepath.Join(src, "d2"), 0o755))
	var logs testutil.LockedBuffer
	in := make(chan Work)
	done := make(chan error)
	go func() {
		done <- Dispatch(in, Options{
			Jobs:    []Job{{Path: src, Dest: dst, Settings: Settings{Rsync: rs, Bwlimit: "0", Extra: []string{"--stats"}}}},
			Initial: true, Logger: zerolog.New(&logs),
		})
	}()
	testutil.Eventually(t, 20*time.Second, "the initial sync", func() bool { return snapshot(dst) == snapshot(src) })
	oldIno := inode(t, filepath.Join(dst, "old", "fa"))
	must(t, os.Rename(filepath.Join(src, "old"), filepath.Join(src, "new")))
	must(t, os.Rename(filepath.Join(src, "d1", "big"), filepath.Join(src, "d2", "big2")))
	in <- Work{Paths: []string{"d1/big", "d2/big2", "new/", "old/"}, Moves: []Move{{From: "old", To: "new"}, {From: "d1/big", To: "d2/big2"}}}
	testutil.Eventually(t, 20*time.Second, "the renames synced", func() bool { return snapshot(dst) == snapshot(src) })
	close(in)
	must(t, <-done)
	// The directory's files were hard-linked from the old name, which the
	// run then deleted: one link each, as a full run leaves them.
	var st syscall.Stat_t
	must(t, syscall.Lstat(filepath.Join(dst, "new", "fa"), &st))
	if st.Ino != oldIno || st.Nlink != 1 {
		t.Errorf("new/fa on the target: inode %d with %d links; want the old name's inode %d, one link", st.Ino, st.Nlink, oldIno)
	}
	var copied []string
	listRuns := 0
	for _, ln := range strings.Split(logs.String(), "\n") {
		var l struct {
			Message string `json:"message"`
			To      string `json:"to"`
			Sent    int64  `json:"sent"`
			Level   string `json:"level"`
			Full    bool   `json:"full"`
		}
		if json.Unmarshal([]byte(ln), &l) != nil {
			continue
		}
		if l.Message == "rsync" && !l.Full {
			listRuns++
			if l.Sent == 0 || l.Sent > 10000 {
				t.Errorf("the run after the copies sent %d bytes (0: no --stats figure)", l.Sent)
			}
		}
		if l.Message != "rename copied on the target from its old name" {
			continue
		}
		copied = append(copied, l.To)
		if l.Level != "info" || l.Sent > 10000 {
			t.Errorf("the copy of %s: level %s, %d bytes sent (of %d MiB renamed)", l.To, l.Level, l.Sent, 8)
		}
	}
	if listRuns == 0 {
		t.Error("no run for the renames was logged")
	}
	if slices.Sort(copied); !slices.Equal(copied, []string{"d2/big2", "new"}) {
		t.Errorf("renames copied: %q; log:\n%s", copied, logs.String())
	}
}

// inode is the inode number of path.
func inode(t *testing.T, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	must(t, syscall.Lstat(path, &st))
	return st.Ino
}

// A move is kept only for plain names, and not where a change of the new
// name (or around it) is still pending.
func TestAddMoves(t *testing.T) {
	j := &jobState{pending: map[string]struct{}{"cur/": {}, "x": {}}}
	j.addMoves([]Move{
		{From: "stage", To: "cur"},    // cur/ pending: left out
		{From: "old", To: "cur/sub"},  // below a pending path: left out
		{From: "a b", To: "c"},        // a space: left out
		{From: "r*", To: "s"},         // a wildcard: left out
		{From: "old", To: "new-name"}, // kept
	})
	if want := map[string]string{"new-name": "old"}; !maps.Equal(j.moves, want) {
		t.Errorf("moves %v, want %v", j.moves, want)
	}
}

// Files swapped through a third name, and files rotated (r2 → r3, r1 → r2,
// r0 → r1), all of one size and one modification time, as tar or cp -p
// leave them: rsync's quick check alone would keep the old files under the
// reused names on the target. Moves copied before the run are copied by
// content; new names not copied are sent by content before the run, which
// may still go to a warm rsync.
func TestDispatchReusedNamesSentByContent(t *testing.T) {
	rs := testutil.NeedRsync(t)
	swap := []Move{{From: "swapA", To: "tmpx"}, {From: "swapB", To: "swapA"}, {From: "tmpx", To: "swapB"}}
	rotate := []Move{{From: "log/r2", To: "log/r3"}, {From: "log/r1", To: "log/r2"}, {From: "log/r0", To: "log/r1"}}
	for _, c := range []struct {
		name   string
		warm   bool
		copied bool // the renames come as Moves too, and are copied
		full   bool // the batch is a full sync (an overflow, max_pending)
		refuse bool // the source guard refuses the first run after the renames
		logged string
	}{
		{"copied", false, true, false, false, "rename copied on the target"},
		{"not copied", false, false, false, false, "renamed files sent by content"},
		{"not copied, warm rsync", true, false, false, false, `"warm":true`},
		{"full sync", false, false, true, false, "renamed files sent by content"},
		{"copied, but the run refused once", false, true, false, true, "sync refused to keep the target safe"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			src, dst := filepath.Join(dir, "src")+"/", filepath.Join(dir, "dst")
			stamp := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
			for name, content := range map[string]string{"swapA": "AAAA", "swapB": "BBBB", "log/r0": "1111", "log/r1": "2222", "log/r2": "3333"} {
				write(t, filepath.Join(src, name), content)
				must(t, os.Chtimes(filepath.Join(src, name), stamp, stamp))
			}
			var logs testutil.LockedBuffer
			var refuse atomic.Bool
			o := Options{
				Jobs: []Job{{Path: src, Dest: dst, Settings: Settings{Rsync: rs, Bwlimit: "0"}, CheckSource: func() error {
					if refuse.CompareAndSwap(true, false) {
						return errors.New("refused once")
					}
					return nil
				}}},
				Initial: true, Warm: c.warm, Logger: zerolog.New(&logs),
			}
			o.Backoff.Min, o.Backoff.Max = 50*time.Millisecond, 50*time.Millisecond
			in, _, done := controlled(t, o)
			testutil.Eventually(t, 10*time.Second, "the initial sync", func() bool { return snapshot(dst) == snapshot(src) })
			if c.warm {
				testutil.Eventually(t, 10*time.Second, "a warm rsync", func() bool { return len(warmWaiting()) >= 1 })
			}
			refuse.Store(c.refuse)
			for _, ms := range [][]Move{swap, rotate} {
				var paths, renamed []string
				for _, m := range ms {
					must(t, os.Rename(filepath.Join(src, m.From), filepath.Join(src, m.To)))
					paths = append(paths, m.From, m.To)
					renamed = append(renamed, m.To)
				}
				slices.Sort(paths)
				slices.Sort(renamed)
				w := Work{Paths: slices.Compact(paths), Renamed: renamed}
				if c.copied {
					w.Moves = ms
				}
				if c.full {
					w.Paths, w.Full = nil, true
				}
				in <- w
			}
			want := "log/\nlog/r1:1111\nlog/r2:2222\nlog/r3:3333\nswapA:BBBB\nswapB:AAAA\n"
			if got := snapshot(src); got != want {
				t.Fatalf("source:\n%s", got)
			}
			testutil.Eventually(t, 10*time.Second, "the target like the source", func() bool { return snapshot(dst) == want })
			endDispatch(t, in, done)
			if !strings.Contains(logs.String(), c.logged) {
				t.Errorf("no %q in the log:\n%s", c.logged, logs.String())
			}
		})
	}
}

// Only files are sent by content: a renamed directory (here one not
// copied, as when its name is not safe on a command line) is left to the
// run's quick check, so that its files are not all read again; a renamed
// file beside it is.
func TestDispatchRenamedDirNotSentByContent(t *testing.T) {
	rs := testutil.NeedRsync(t)
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src")+"/", filepath.Join(dir, "dst")
	for i := range 3 {
		write(t, filepath.Join(src, "old", fmt.Sprintf("f%d", i)), "x")
	}
	write(t, filepath.Join(src, "a"), "A")
	var logs testutil.LockedBuffer
	in, _, done := controlled(t, Options{
		Jobs:    []Job{{Path: src, Dest: dst, Settings: Settings{Rsync: rs, Bwlimit: "0"}}},
		Initial: true, Logger: zerolog.New(&logs),
	})
	testutil.Eventually(t, 10*time.Second, "the initial sync", func() bool { return snapshot(dst) == snapshot(src) })
	must(t, os.Rename(filepath.Join(src, "old"), filepath.Join(src, "new")))
	must(t, os.Rename(filepath.Join(src, "a"), filepath.Join(src, "b")))
	in <- Work{Paths: []string{"a", "b", "new/", "old/"}, Renamed: []string{"b", "new"}}
	testutil.Eventually(t, 10*time.Second, "the renames synced", func() bool { return snapshot(dst) == snapshot(src) })
	endDispatch(t, in, done)
	if !strings.Contains(logs.String(), `"renamed":["b"],`) {
		t.Errorf("want b alone sent by content:\n%s", logs.String())
	}
}

func TestLeftOut(t *testing.T) {
	hook := func(rel string, isDir bool) bool { return rel == "cache" && isDir || strings.HasSuffix(rel, ".tmp") }
	for _, c := range []struct {
		rel  string
		want bool
	}{
		{"a", false},
		{"secret/f", true},   // below a set-aside path
		{"secret", true},     // the set-aside path itself
		{"secrets/f", false}, // a sibling whose name begins alike
		{"x.tmp", true},      // excluded by the function
		{"cache/d/f", true},  // below a directory it excludes
		{"cachet/f", false},
	} {
		if got := leftOut(c.rel, []string{"secret/"}, hook); got != c.want {
			t.Errorf("leftOut(%q) = %v, want %v", c.rel, got, c.want)
		}
	}
	if leftOut("x.tmp", nil, nil) {
		t.Error("no rules: nothing is left out")
	}
}
