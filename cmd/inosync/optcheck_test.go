package main

import (
	"slices"
	"testing"
)

// receiverPathsAt points every spelling of a receiver-side directory
// option at the check's own directory.
func TestReceiverPathsAt(t *testing.T) {
	in := []string{"rsync", "-ltrp", "--temp-dir=/x", "--backup-dir", "/y", "-T/z", "-aT", "/w", "-T", "/v", "-e", "ssh -T", "--partial-dir=.p", "src/", "h:/dst/"}
	want := []string{"rsync", "-ltrp", "--temp-dir=/d", "--backup-dir", "/d", "-T/d", "-aT", "/d", "-T", "/d", "-e", "ssh -T", "--partial-dir=/d", "src/", "h:/dst/"}
	if got := receiverPathsAt(in, "/d"); !slices.Equal(got, want) {
		t.Errorf("receiverPathsAt:\n got %q\nwant %q", got, want)
	}
}
