package main

import (
	"strings"
	"testing"

	"github.com/inosync/inosync/config"
	"github.com/inosync/inosync/internal/testutil"
	"github.com/inosync/inosync/rsync"
)

// TestCorpus loads every config of testdata/compat-corpus and compares the
// initial-sync argv that --check prints with the one the Python original
// ran (.expect), or the error with the one it printed (.error).
func TestCorpus(t *testing.T) {
	testutil.EachCorpusConfig(t, func(t *testing.T, f, cfgPath, root string) {
		want, wantErr, ok := testutil.CorpusExpectation(t, f, root)
		cfg, err := config.Load(cfgPath, config.Options{Cwd: root, Env: map[string]string{"HOME": "/root"}})
		if !ok {
			if err == nil {
				t.Fatalf("loaded, want the error %q", wantErr)
			}
			if !strings.Contains(err.Error(), wantErr) {
				t.Fatalf("error %q does not say %q", err, wantErr)
			}
			return
		}
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		var got []string
		for _, argv := range initialArgv(cfg) {
			got = append(got, rsync.Quote(argv))
		}
		if g := strings.Join(got, "\n"); g != want {
			t.Errorf("argv differs\n got: %s\nwant: %s", g, want)
		}
	})
}
