package main

import (
	"testing"

	"github.com/inosync/inosync/watch"
)

// The status file inside a watched tree, and the temp files it is written
// through, start no sync; nothing else is dropped.
func TestStatusFileIn(t *testing.T) {
	own := statusFileIn("/srv/www/", "/srv/www/state/status.txt")
	for rel, want := range map[string]bool{
		"state/status.txt":         true,
		"state/.status.txt.123456": true,
		"state/status.txt.bak":     false,
		"status.txt":               false,
		"state/.status.txt.1/x":    false,
		"other/.status.txt.123456": false,
	} {
		if got := own(rel); got != want {
			t.Errorf("own(%q) = %v, want %v", rel, got, want)
		}
	}
	for _, out := range []string{"/var/lib/inosync/status.txt", "/srv/www2/status.txt", ""} {
		if statusFileIn("/srv/www", out) != nil {
			t.Errorf("%q is not in /srv/www, but is treated as its own file", out)
		}
	}
}

// The watcher's filter drops the daemon's own file and keeps asking the
// config's filter about everything else.
func TestWithoutOwnFile(t *testing.T) {
	own := statusFileIn("/srv/www", "/srv/www/status.txt")
	noTmp := func(c watch.Change) bool { return c.Rel != "x.tmp" }
	for _, tc := range []struct {
		keep func(watch.Change) bool
		rel  string
		want bool
	}{
		{nil, "status.txt", false},
		{nil, "index.html", true},
		{noTmp, "status.txt", false},
		{noTmp, "x.tmp", false},
		{noTmp, "index.html", true},
	} {
		if got := withoutOwnFile(tc.keep, own)(watch.Change{Rel: tc.rel}); got != tc.want {
			t.Errorf("keep(%q) = %v, want %v (config filter set: %v)", tc.rel, got, tc.want, tc.keep != nil)
		}
	}
	if withoutOwnFile(nil, nil) != nil {
		t.Error("no own file and no config filter should leave the watcher without a filter")
	}
}
