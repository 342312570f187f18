package rsync

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/inosync/inosync/internal/testutil"
)

func TestUnreadablePaths(t *testing.T) {
	const summary = "rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1394) [sender=3.5.0]"
	for _, c := range []struct {
		name, source, output string
		want                 []string // nil: not placed
	}{
		{"a directory and a file", "/srv/www/", `IO error encountered -- skipping file deletion
rsync: [sender] opendir "/srv/www/secret" failed: Permission denied (13)
rsync: [sender] send_files failed to open "/srv/www/ok/unread": Permission denied (13)
` + summary, []string{"ok/unread", "secret"}},
		{"a source without its trailing slash", "/srv/www", `rsync: [sender] link_stat "/srv/www/a b/"q"" failed: Permission denied (13)`, []string{`a b/"q"`}},
		{"the output's cut start", "/srv/www/", `ed: Permission denied (13)
rsync: [sender] opendir "/srv/www/secret" failed: Permission denied (13)`, []string{"secret"}},
		{"a receiver error", "/srv/www/", `rsync: [receiver] mkstemp "/dst/.a.XXXX" failed: Read-only file system (30)
rsync: [sender] opendir "/srv/www/secret" failed: Permission denied (13)`, nil},
		{"the root itself", "/srv/www/", `rsync: [sender] opendir "/srv/www" failed: Permission denied (13)`, nil},
		{"the root as a full run names it", "/srv/www/", `rsync: [sender] opendir "/srv/www/." failed: Permission denied (13)`, nil},
		{"a tree at /", "/", `rsync: [sender] opendir "/secret" failed: Permission denied (13)`, []string{"secret"}},
		{"a path that leaves the tree", "/srv/www/", `rsync: [sender] opendir "/srv/www/../x" failed: Permission denied (13)`, nil},
		{"a path outside the tree", "/srv/www/", `rsync: [sender] opendir "/srv/wwwx/a" failed: Permission denied (13)`, nil},
		{"an escaped name", "/srv/www/", `rsync: [sender] opendir "/srv/www/a\#012b" failed: Permission denied (13)`, nil},
		{"no path named", "/srv/www/", `rsync: [sender] write error: Broken pipe (32)`, nil},
		{"nothing named", "/srv/www/", summary, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := unreadablePaths(c.output, c.source)
			if c.want == nil {
				if ok {
					t.Errorf("placed %v, want nothing", got)
				}
				return
			}
			if keys := slices.Sorted(maps.Keys(got)); !ok || !slices.Equal(keys, c.want) {
				t.Errorf("got %q (ok %v), want %q", keys, ok, c.want)
			}
		})
	}
}

func TestLeaveOut(t *testing.T) {
	u := unreadableSet{"secret": {}, "a/b": {retrying: true}, "c": {}}
	kept, exclude := u.leaveOut([]string{"secret/", "secret/x", "secretary", "a/b", "c", "d/"})
	if want := []string{"secretary", "a/b", "d/"}; !slices.Equal(kept, want) {
		t.Errorf("kept %q, want %q", kept, want)
	}
	if want := []string{"c", "secret"}; !slices.Equal(exclude, want) {
		t.Errorf("exclude %q, want %q", exclude, want)
	}
	if got := excludeOptions("/srv/www", []string{"c", "x*"}); !slices.Equal(got, []string{"--filter=P /www/c", "--exclude=/www/c", `--filter=P /www/x\*`, `--exclude=/www/x\*`}) {
		t.Errorf("excludeOptions = %q", got)
	}
	argv := withRulesFirst([]string{"rsync", "-ltrp", "--delete", "--include=*/", "src/", "dst/"}, []string{"--exclude=/c"})
	if want := []string{"rsync", "-ltrp", "--exclude=/c", "--delete", "--include=*/", "src/", "dst/"}; !slices.Equal(argv, want) {
		t.Errorf("withRulesFirst = %q, want %q", argv, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// unreadableTree makes, in a temp dir, a source with ok/a and an
// unreadable secret/s, and a target (owned by nobody) that holds an older
// secret/s; it returns the source and the target.
func unreadableTree(t *testing.T) (src, dst string) {
	t.Helper()
	dir := t.TempDir()
	src, dst = filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	write(t, filepath.Join(src, "ok/a"), "1")
	write(t, filepath.Join(src, "secret/s"), "new")
	write(t, filepath.Join(dst, "secret/s"), "old")
	// Older: the two writes may fall in the same tick of the file
	// system's clock, and rsync would take the same size and time as
	// the same file.
	old := time.Now().Add(-time.Hour)
	must(t, os.Chtimes(filepath.Join(dst, "secret/s"), old, old))
	must(t, filepath.WalkDir(dst, func(p string, _ os.DirEntry, err error) error {
		return errors.Join(err, os.Chown(p, 65534, 65534))
	}))
	must(t, os.Chmod(filepath.Join(src, "secret"), 0o700))
	return src, dst
}

// A directory that rsync cannot read is set aside: the run without it
// completes, the target keeps its copy of it, the tree's other changes
// are synced at once while it waits for its own retry, and the status says
// so without calling the node failing.
func TestUnreadableSetAside(t *testing.T) {
	src, dst, in, ctl, done, logs := unreadableDispatch(t, time.Hour)
	testutil.Eventually(t, 10*time.Second, "the initial sync without secret", func() bool {
		return jobOf(t, askStatus(ctl), dst+"/").State == StateInSync
	})
	s := jobOf(t, askStatus(ctl), dst+"/")
	if len(s.Unreadable) != 1 || s.Unreadable[0].Path != "secret" || !strings.Contains(s.Unreadable[0].Error, "Permission denied") {
		t.Errorf("unreadable paths: %+v, want secret, with rsync's error", s.Unreadable)
	}
	if got := snapshot(dst); got != "ok/\nok/a:1\nsecret/\nsecret/s:old\n" {
		t.Errorf("target:\n%s\nwant ok/a and the old secret/s kept", got)
	}
	if !strings.Contains(logs.String(), "rsync cannot read this path") {
		t.Errorf("the set-aside path was not logged:\n%s", logs.String())
	}
	// Another change, and one inside the unreadable directory: the first
	// is synced at once (with the old code it waited an hour's backoff).
	write(t, filepath.Join(src, "ok/b"), "2")
	in <- Work{Paths: []string{"ok/b", "secret/s", "ok/"}}
	testutil.Eventually(t, 10*time.Second, "ok/b", func() bool { return strings.Contains(snapshot(dst), "ok/b:2") })
	testutil.Eventually(t, 10*time.Second, "the node in sync", func() bool {
		return jobOf(t, askStatus(ctl), dst+"/").State == StateInSync
	})
	if got := snapshot(dst); !strings.Contains(got, "secret/s:old") {
		t.Errorf("target:\n%s\nwant the old secret/s kept", got)
	}
	close(in)
	err := <-done
	if err == nil || !strings.Contains(err.Error(), "1 paths rsync cannot read: secret") {
		t.Errorf("Dispatch: %v, want an error naming the unreadable secret", err)
	}
}

// Once the directory can be read again, its own retry syncs it and the
// status no longer lists it.
func TestUnreadableReadableAgain(t *testing.T) {
	src, dst, in, ctl, done, logs := unreadableDispatch(t, 100*time.Millisecond)
	testutil.Eventually(t, 10*time.Second, "secret set aside", func() bool {
		return len(jobOf(t, askStatus(ctl), dst+"/").Unreadable) == 1
	})
	must(t, os.Chmod(filepath.Join(src, "secret"), 0o755))
	testutil.Eventually(t, 10*time.Second, "secret synced by its retry", func() bool {
		return strings.Contains(snapshot(dst), "secret/s:new") && len(jobOf(t, askStatus(ctl), dst+"/").Unreadable) == 0
	})
	if !strings.Contains(logs.String(), "the path is readable again and synced") {
		t.Errorf("the recovery was not logged:\n%s", logs.String())
	}
	endDispatch(t, in, done)
}

// With --delete-excluded in extra, the target still keeps its copy of a
// path set aside (the rules protect it), and a user's include rule that
// comes first does not undo the exclusion.
func TestUnreadableKeptWithDeleteExcluded(t *testing.T) {
	_, dst, in, ctl, done, _ := unreadableDispatch(t, time.Hour, "--delete-excluded", "--include=*/")
	testutil.Eventually(t, 10*time.Second, "the initial sync without secret", func() bool {
		s := jobOf(t, askStatus(ctl), dst+"/")
		return s.State == StateInSync && len(s.Unreadable) == 1
	})
	if got := snapshot(dst); got != "ok/\nok/a:1\nsecret/\nsecret/s:old\n" {
		t.Errorf("target:\n%s\nwant ok/a and the old secret/s kept", got)
	}
	close(in)
	<-done
}

// A resync asked for by hand tries the set-aside paths again at once (the
// operator may have fixed the permissions), whatever their backoff.
func TestUnreadableRetriedByResync(t *testing.T) {
	src, dst, in, ctl, done, _ := unreadableDispatch(t, time.Hour)
	testutil.Eventually(t, 10*time.Second, "secret set aside", func() bool {
		return len(jobOf(t, askStatus(ctl), dst+"/").Unreadable) == 1
	})
	must(t, os.Chmod(filepath.Join(src, "secret"), 0o755))
	ctl <- ResyncRequest{}
	testutil.Eventually(t, 10*time.Second, "secret synced by the resync", func() bool {
		return strings.Contains(snapshot(dst), "secret/s:new") && len(jobOf(t, askStatus(ctl), dst+"/").Unreadable) == 0
	})
	endDispatch(t, in, done)
}

// A set-aside path that is removed from the source is dropped at its next
// try: nothing is left to read.
func TestUnreadableGoneDropped(t *testing.T) {
	src, dst, in, ctl, done, logs := unreadableDispatch(t, 100*time.Millisecond)
	testutil.Eventually(t, 10*time.Second, "secret set aside", func() bool {
		return len(jobOf(t, askStatus(ctl), dst+"/").Unreadable) == 1
	})
	must(t, os.RemoveAll(filepath.Join(src, "secret")))
	testutil.Eventually(t, 10*time.Second, "secret dropped", func() bool {
		return len(jobOf(t, askStatus(ctl), dst+"/").Unreadable) == 0
	})
	if !strings.Contains(logs.String(), "the path rsync could not read is gone") {
		t.Errorf("the drop was not logged:\n%s", logs.String())
	}
	endDispatch(t, in, done)
}

// unreadableDispatch runs Dispatch on an unreadableTree, rsync run as
// nobody, with the given backoff and extra; it returns the tree and what
// controlled returns, and the log.
func unreadableDispatch(t *testing.T, backoff time.Duration, extra ...string) (src, dst string, in chan<- Work, ctl chan<- Request, done <-chan error, logs *testutil.LockedBuffer) {
	t.Helper()
	src, dst = unreadableTree(t)
	rs := testutil.NobodyRsync(t, src, dst)
	logs = &testutil.LockedBuffer{}
	in, ctl, done = controlled(t, Options{
		Jobs:    []Job{{Path: src + "/", Dest: dst + "/", Settings: Settings{Rsync: rs, Bwlimit: "0", Extra: extra}}},
		Initial: true, Warm: true, Backoff: struct{ Min, Max time.Duration }{Min: backoff, Max: 2 * backoff}, Logger: zerolog.New(logs),
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(logs.String(), "\n", snapshot(dst))
		}
	})
	return src, dst, in, ctl, done, logs
}

// A renamed file that rsync cannot read fails the pass that sends renamed
// files by content (exit 23); the run goes on, sets the file aside and
// syncs the tree's other changes at once, rather than failing as a whole
// and waiting out its backoff.
func TestUnreadableRenamedSetAside(t *testing.T) {
	src, dst, in, ctl, done, logs := unreadableDispatch(t, time.Hour)
	testutil.Eventually(t, 10*time.Second, "the initial sync without secret", func() bool {
		return jobOf(t, askStatus(ctl), dst+"/").State == StateInSync
	})
	write(t, filepath.Join(src, "ok/r.tmp"), "private")
	must(t, os.Chmod(filepath.Join(src, "ok/r.tmp"), 0o600))
	must(t, os.Rename(filepath.Join(src, "ok/r.tmp"), filepath.Join(src, "ok/r")))
	write(t, filepath.Join(src, "ok/c"), "3")
	in <- Work{Paths: []string{"ok/c", "ok/r", "ok/r.tmp"}, Renamed: []string{"ok/r"}}
	testutil.Eventually(t, 10*time.Second, "ok/c synced and ok/r set aside", func() bool {
		s := jobOf(t, askStatus(ctl), dst+"/")
		return strings.Contains(snapshot(dst), "ok/c:3") && slices.ContainsFunc(s.Unreadable, func(u UnreadableStatus) bool { return u.Path == "ok/r" })
	})
	if !strings.Contains(logs.String(), "some renamed files were not sent by content") {
		t.Errorf("the failed pass by content for ok/r was not logged:\n%s", logs.String())
	}
	close(in)
	<-done
}
