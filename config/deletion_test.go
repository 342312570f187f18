package config

import (
	"strings"
	"testing"
)

// delete and init: True and True by default, set globally for every tree
// and per sync(), and checked with a position.
func TestDeletionSettings(t *testing.T) {
	cfg, _, err := loadSrc(t, `wpaths = ["@DIR@/src"]
rpaths = ["/r/"]
rnodes = ["web1:"]
sync("@DIR@/other/", "/o/", delete = "running", init = False)
`)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Syncs[0]; got.Delete != DeleteAll || !got.Init {
		t.Errorf("legacy tree: delete %q, init %v; want all, True", got.Delete, got.Init)
	}
	if got := cfg.Syncs[1]; got.Delete != DeleteRunning || got.Init {
		t.Errorf("sync(): delete %q, init %v; want running, False", got.Delete, got.Init)
	}

	cfg, _, err = loadSrc(t, `delete = False
init = False
sync("@DIR@/src/", "/s/", nodes = [""])
sync("@DIR@/other/", "/o/", nodes = [""], delete = "startup", init = True)
`)
	if err != nil {
		t.Fatal(err)
	}
	if s := cfg.Syncs; s[0].Delete != DeleteNone || s[0].Init || s[1].Delete != DeleteStartup || !s[1].Init {
		t.Errorf("global defaults: %+v", s)
	}

	for _, c := range []struct{ src, want string }{
		{"delete = \"always\"\nsync(\"@DIR@/src/\", \"/s/\", nodes = [\"\"])\n", `cfg.py:1:10: delete must be True (every run deletes on the target what the source does not have), False (no run does), "startup" (only the initial sync) or "running" (only the runs for changes seen while running), got string`},
		{"init = 0\nsync(\"@DIR@/src/\", \"/s/\", nodes = [\"\"])\n", "cfg.py:1:8: init must be True or False, got int 0"},
		{"sync(\"@DIR@/src/\", \"/s/\", nodes = [\"\"], delete = 1)\n", "cfg.py:1:5: delete must be True"},
		{"sync(\"@DIR@/src/\", \"/s/\", nodes = [\"\"], init = \"no\")\n", "cfg.py:1:5: init must be True or False, got string"},
	} {
		_, _, err := loadSrc(t, c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.src, err, c.want)
		}
	}
}

// An rsync option that deletes by itself contradicts a deletion mode that
// says not to: refused, naming the option.
func TestDeleteOptionInExtra(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"extra = \"-a --delete-after\"\ndelete = False\nsync(\"@DIR@/src/\", \"/s/\", nodes = [\"\"])\n", `cfg.py:1:9: --delete-after in the rsync options of `},
		{"sync(\"@DIR@/src/\", \"/s/\", nodes = [node(\"h:\", extra = \"--del\")], delete = \"running\")\n", `--del in the rsync options of`},
	} {
		_, _, err := loadSrc(t, c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.src, err, c.want)
		}
	}
	if _, _, err := loadSrc(t, "extra = \"--delete-after\"\nsync(\"@DIR@/src/\", \"/s/\", nodes = [\"\"])\n"); err != nil {
		t.Errorf("with the default delete = True, --delete-after is fine: %v", err)
	}
}
