package rsync

import (
	"os"
	"reflect"
	"testing"

	"github.com/rs/zerolog"
)

func TestIsRemote(t *testing.T) {
	for dest, want := range map[string]bool{
		"host:/srv": true, "user@host:": true, "host:": true, "/srv/a": false, "": false,
		"./a:b": false, "rsync://host/mod": false, "host::module": false, "a/b:c": false,
	} {
		if got := IsRemote(dest); got != want {
			t.Errorf("IsRemote(%q) = %v, want %v", dest, got, want)
		}
	}
}

func TestWithSSHReuse(t *testing.T) {
	const o = "-o ControlMaster=auto -o ControlPersist=60 -o ControlPath=/run/x/%C"
	tests := []struct{ extra, want []string }{
		{nil, []string{"--rsh=ssh " + o}},
		{[]string{"-z"}, []string{"-z", "--rsh=ssh " + o}},
		{[]string{"--rsh=ssh -p 2222 -i /k", "-z"}, []string{"--rsh=ssh -p 2222 -i /k " + o, "-z"}},
		{[]string{"-e", "/usr/bin/ssh -p 2"}, []string{"-e", "/usr/bin/ssh -p 2 " + o}},
		{[]string{"-essh -p 2"}, []string{"-essh -p 2 " + o}},
		{[]string{"--rsh=ssh -o ControlPath=/mine/%C"}, []string{"--rsh=ssh -o ControlPath=/mine/%C"}},
		{[]string{"--rsh=rsh"}, []string{"--rsh=rsh"}},
	}
	for _, tt := range tests {
		if got := withSSHReuse(tt.extra, "/run/x"); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("withSSHReuse(%q) = %q, want %q", tt.extra, got, tt.want)
		}
	}
}

// Each daemon gets a control directory of its own, private, and removed
// at stop; with no remote node there is none.
func TestSSHControl(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	if c := NewSSHControl([]Job{{Dest: "/srv/local"}}, zerolog.Nop()); c != nil {
		t.Fatalf("a control directory %s without a remote node", c.Dir)
	}
	remote := []Job{{Dest: "/srv/local"}, {Dest: "web1:/srv"}}
	a, b := NewSSHControl(remote, zerolog.Nop()), NewSSHControl(remote, zerolog.Nop())
	if a == nil || b == nil {
		t.Fatal("no control directory for a remote node")
	}
	if a.Dir == b.Dir {
		t.Fatalf("two daemons share %s", a.Dir)
	}
	fi, err := os.Stat(a.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("%s is %v, want a directory with mode 0700", a.Dir, fi.Mode())
	}
	a.Close()
	if _, err := os.Stat(a.Dir); !os.IsNotExist(err) {
		t.Errorf("%s left after Close: %v", a.Dir, err)
	}
	if _, err := os.Stat(b.Dir); err != nil {
		t.Errorf("closing one daemon's directory touched the other's: %v", err)
	}
	b.Close()
}
