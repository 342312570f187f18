package rsync

import (
	"reflect"
	"slices"
	"testing"
)

func TestArgv(t *testing.T) {
	tests := []struct {
		name   string
		s      Settings
		source string
		dest   string
		want   []string
	}{
		{
			name:   "defaults",
			s:      Settings{Rsync: "/usr/bin/rsync", Bwlimit: "0"},
			source: "/srv/www/", dest: "web1:/var/www",
			want: []string{"/usr/bin/rsync", "-ltrp", "--delete", "--bwlimit=0", "/srv/www/", "web1:/var/www"},
		},
		{
			name: "everything, in 0.2.3's order",
			s: Settings{Rsync: "/opt/rsync", Extra: []string{"--rsh=ssh -p 2222", "-z"}, Bwlimit: "128",
				Logfile: "/var/log/in sync.log", Excludes: []string{"*.tmp", "/cache/"}},
			source: "/srv/a b", dest: "",
			want: []string{"/opt/rsync", "-ltrp", "--delete", "--rsh=ssh -p 2222", "-z", "--bwlimit=128",
				"--log-file=/var/log/in sync.log", "--exclude=*.tmp", "--exclude=/cache/", "/srv/a b", ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Argv(tt.s, tt.source, tt.dest); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Argv = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestQuote(t *testing.T) {
	tests := []struct {
		argv []string
		want string
	}{
		{[]string{"/usr/bin/rsync", "-ltrp", "--bwlimit=0", "user@host:/a,b+c%d"}, "/usr/bin/rsync -ltrp --bwlimit=0 user@host:/a,b+c%d"},
		{[]string{"--exclude=*.vdi", "a b", ""}, "'--exclude=*.vdi' 'a b' ''"},
		{[]string{"it's", "$HOME", "~x", "a\nb", "\xff"}, `'it'"'"'s' '$HOME' '~x' '` + "a\nb" + `' '` + "\xff" + `'`},
	}
	for _, tt := range tests {
		if got := Quote(tt.argv); got != tt.want {
			t.Errorf("Quote(%q) = %s, want %s", tt.argv, got, tt.want)
		}
	}
}

// Each deletion mode deletes in the runs it names, and the default keeps
// 0.2.3's command lines.
func TestDeleteModes(t *testing.T) {
	has := func(argv []string, opt string) bool { return slices.Contains(argv, opt) }
	for _, c := range []struct {
		mode                  DeleteMode
		initial, rescan, list bool
	}{
		{DeleteAlways, true, true, true},
		{DeleteNever, false, false, false},
		{DeleteStartup, true, false, false},
		{DeleteRunning, false, false, true},
	} {
		s := Settings{Rsync: "rsync", Bwlimit: "0", Delete: c.mode}
		list, _ := ListArgv(s, "/src/", "/dst/")
		waiting, _ := WaitingListArgv(s, "/src/", "/dst/")
		if got := has(Argv(s, "/src/", "/dst/"), "--delete"); got != c.initial {
			t.Errorf("mode %d: initial sync deletes: %v, want %v", c.mode, got, c.initial)
		}
		if got := has(RescanArgv(s, "/src/", "/dst/"), "--delete"); got != c.rescan {
			t.Errorf("mode %d: full sync deletes: %v, want %v", c.mode, got, c.rescan)
		}
		for _, argv := range [][]string{list, waiting} {
			if got := has(argv, "--delete") && has(argv, "--delete-missing-args"); got != c.list {
				t.Errorf("mode %d: list run deletes: %v, want %v: %q", c.mode, got, c.list, argv)
			}
			if !c.list && !has(argv, "--ignore-missing-args") {
				t.Errorf("mode %d: a list run that may not delete does not skip missing paths: %q", c.mode, argv)
			}
		}
	}
	if got := Quote(Argv(Settings{Rsync: "rsync", Bwlimit: "0"}, "/src/", "h:/dst/")); got != "rsync -ltrp --delete --bwlimit=0 /src/ h:/dst/" {
		t.Errorf("default initial argv = %s", got)
	}
}
