package config

import (
	"strings"
	"sync"
	"testing"
)

const hookCfg = `rnodes = ["h:"]
sync(source = "src", target = "/a",
     exclude = lambda path, is_dir: path.endswith(".part"),
     filter = lambda event: event.name != "IN_ATTRIB")

def exclude(path, is_dir):
    if path == "loop":
        while True:
            pass
    if path == "none":
        return None
    return 1 // len(path) == 7
def event_filter(event):
    return not event.path.startswith("tmp/")
`

func TestHooks(t *testing.T) {
	cfg, _, err := loadSrc(t, hookCfg)
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Syncs[0]
	if len(s.ExcludeHooks) != 2 || len(s.FilterHooks) != 2 {
		t.Fatalf("hooks: %d exclude, %d filter; want 2 and 2 (the tree's, then the global)", len(s.ExcludeHooks), len(s.FilterHooks))
	}
	tests := []struct {
		hook    int
		path    string
		want    bool
		wantErr string
	}{
		{0, "a/b.part", true, ""},
		{0, "a/b.txt", false, ""},
		{1, "x", false, ""},
		{1, "", false, "cfg.py:12: exclude hook failed: floored division by zero"},
		{1, "none", false, "cfg.py:6: exclude hook failed: returned NoneType None, want True or False"},
		{1, "loop", false, "cfg.py:6: exclude hook failed: did not finish within 100000 steps (an endless loop?)"},
	}
	for _, tt := range tests {
		got, err := s.ExcludeHooks[tt.hook](tt.path, false)
		if tt.wantErr != "" {
			if err == nil || !strings.HasSuffix(err.Error(), tt.wantErr) {
				t.Errorf("hook %d(%q): error %v, want one ending %q", tt.hook, tt.path, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("hook %d(%q) = %v, %v; want %v", tt.hook, tt.path, got, err, tt.want)
		}
	}
	for _, tt := range []struct {
		ev   Event
		hook int
		want bool
	}{
		{Event{Path: "f", Name: "IN_ATTRIB"}, 0, false},
		{Event{Path: "f", Name: "IN_CREATE"}, 0, true},
		{Event{Path: "tmp/x", Name: "IN_CREATE"}, 1, false},
		{Event{Path: "y", Name: "IN_CREATE"}, 1, true},
	} {
		if got, err := s.FilterHooks[tt.hook](tt.ev); err != nil || got != tt.want {
			t.Errorf("filter %d(%+v) = %v, %v; want %v", tt.hook, tt.ev, got, err, tt.want)
		}
	}
}

// TestHooksConcurrent calls one hook from many goroutines (run with -race).
func TestHooksConcurrent(t *testing.T) {
	cfg, _, err := loadSrc(t, hookCfg)
	if err != nil {
		t.Fatal(err)
	}
	h := cfg.Syncs[0].ExcludeHooks[0]
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if ok, err := h("x.part", false); !ok || err != nil {
					t.Errorf("hook = %v, %v", ok, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestSyncErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{`sync(sorce = "src", target = "/a")`, `cfg.py:1:5: sync: unexpected keyword argument "sorce" (did you mean source?)`},
		{`sync(source = "src")`, `cfg.py:1:5: sync: missing argument for target`},
		{`sync(source = 1, target = "/a")`, `cfg.py:1:5: sync: for parameter "source": got int, want string`},
		{`sync(source = "src", target = "/a")`, `cfg.py:1:5: sync(source="src") has no nodes: give nodes=[…] or set rnodes`},
		{`sync(source = "src", target = "/a", nodes = ["h:"], exclude = lambda p: True)`, `cfg.py:1:5: exclude must take (path, is_dir), but the function at cfg.py:1 takes 1 parameter`},
		{`sync(source = "src", target = "/a", nodes = ["h:"], filter = "IN_CREATE")`, `cfg.py:1:5: filter must be a function (def or lambda) taking (event), got string "IN_CREATE"`},
		{`sync(source = "src", target = "/a", nodes = ["h:"], delay = -2)`, `cfg.py:1:5: delay is -2, must be 0 or more (event delay in seconds)`},
		{`sync(source = "nope", target = "/a", nodes = ["h:"])`, `cfg.py:1:5: sync(source=…) "nope": no such directory`},
		{`sync(source = "src", target = "/a", nodes = ["h:"], excludes = ["a["])`, `cfg.py:1:5: excludes: filter: pattern "a[": unclosed '[' at offset 1 (rsync would silently ignore it)`},
		{"rnodes = ['h:']\nsync(source = 'src', target = '/a')\nexclude = 3\n", `cfg.py:3:11: exclude must be a function (def or lambda) taking (path, is_dir), got int 3`},
	}
	for _, tt := range tests {
		_, dir, err := loadSrc(t, tt.src)
		if err == nil {
			t.Errorf("%s: loaded", tt.src)
			continue
		}
		got := strings.ReplaceAll(err.Error(), dir+"/", "")
		if got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.src, got, tt.want)
		}
	}
}

func TestSyncMixesWithLegacy(t *testing.T) {
	cfg, dir, err := loadSrc(t, `wpaths = ["src/"]
rpaths = ["/a/"]
rnodes = ["h1:"]
edelay = 3
sync(source = "other", target = "/b", nodes = ["h2:", "h3:"], delay = 0)
`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(dests(cfg), " | "), dir+"/src -> h1:/a/ | "+dir+"/other -> h2:/b | "+dir+"/other -> h3:/b"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if cfg.Syncs[0].Delay.Seconds() != 3 || cfg.Syncs[1].Delay != 0 {
		t.Errorf("delays %v, %v", cfg.Syncs[0].Delay, cfg.Syncs[1].Delay)
	}
}

// BenchmarkHookCall measures one exclude-hook call from Go, as the watcher
// makes it per event and per directory (a fresh thread each call).
func BenchmarkHookCall(b *testing.B) {
	cfg, _, err := loadSrc(&testing.T{}, hookCfg)
	if err != nil {
		b.Fatal(err)
	}
	h := cfg.Syncs[0].ExcludeHooks[0]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h("www/site/assets/img/logo.part", false); err != nil {
			b.Fatal(err)
		}
	}
}
