package config

import (
	"strings"
	"testing"
	"time"
)

// timeout and allow_empty_source: 300 s and False by default, set
// globally for every tree and per sync(), and checked with a position.
func TestSafetySettings(t *testing.T) {
	cfg, _, err := loadSrc(t, `wpaths = ["@DIR@/src"]
rpaths = ["/r/"]
rnodes = ["web1:"]
sync("@DIR@/other/", "/o/", timeout = 20, allow_empty_source = True)
`)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Syncs[0]; got.Timeout != DefaultRsyncTimeout || got.AllowEmptySource {
		t.Errorf("legacy tree: timeout %v, allow_empty_source %v; want 300s, False", got.Timeout, got.AllowEmptySource)
	}
	if got := cfg.Syncs[1]; got.Timeout != 20*time.Second || !got.AllowEmptySource {
		t.Errorf("sync(): timeout %v, allow_empty_source %v; want 20s, True", got.Timeout, got.AllowEmptySource)
	}

	cfg, _, err = loadSrc(t, `timeout = 0
allow_empty_source = True
sync("@DIR@/src/", "/s/", nodes = [""])
sync("@DIR@/other/", "/o/", nodes = [""], allow_empty_source = False)
`)
	if err != nil {
		t.Fatal(err)
	}
	if s := cfg.Syncs; s[0].Timeout != 0 || !s[0].AllowEmptySource || s[1].AllowEmptySource {
		t.Errorf("global defaults: %+v", s)
	}

	for _, c := range []struct{ src, want string }{
		{"timeout = -1\nsync(\"@DIR@/src/\", \"/s/\", nodes = [\"\"])\n", "cfg.py:1:11: timeout must be 0 (off) or a number of seconds"},
		{"allow_empty_source = 1\nsync(\"@DIR@/src/\", \"/s/\", nodes = [\"\"])\n", "cfg.py:1:22: allow_empty_source must be True or False, got int 1"},
		{"sync(\"@DIR@/src/\", \"/s/\", nodes = [\"\"], timeout = \"5m\")\n", "cfg.py:1:5: timeout must be a number of seconds, got string"},
	} {
		_, _, err := loadSrc(t, c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.src, err, c.want)
		}
	}
}
