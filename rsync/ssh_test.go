package rsync

import (
	"os"
	"reflect"
	"testing"
	"time"

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

func TestWithSSHOptions(t *testing.T) {
	const o = "-o ControlMaster=auto -o ControlPersist=60 -o ControlPath=/run/x/%C"
	const to = "-o ConnectTimeout=30 -o ServerAliveInterval=15 -o ServerAliveCountMax=4"
	tests := []struct {
		extra []string
		dir   string
		want  []string
	}{
		{nil, "/run/x", []string{"--rsh=ssh " + o + " " + to}},
		{nil, "", []string{"--rsh=ssh " + to}},
		{[]string{"-z"}, "/run/x", []string{"-z", "--rsh=ssh " + o + " " + to}},
		{[]string{"--rsh=ssh -p 2222 -i /k", "-z"}, "/run/x", []string{"--rsh=ssh -p 2222 -i /k " + o + " " + to, "-z"}},
		{[]string{"-e", "/usr/bin/ssh -p 2"}, "/run/x", []string{"-e", "/usr/bin/ssh -p 2 " + o + " " + to}},
		{[]string{"-essh -p 2"}, "/run/x", []string{"-essh -p 2 " + o + " " + to}},
		// The user's own ControlPath and timeouts stay; the others are added.
		{[]string{"--rsh=ssh -o ControlPath=/mine/%C -o connecttimeout=5"}, "/run/x",
			[]string{"--rsh=ssh -o ControlPath=/mine/%C -o connecttimeout=5 -o ServerAliveInterval=15 -o ServerAliveCountMax=4"}},
		{[]string{"--rsh=rsh"}, "/run/x", []string{"--rsh=rsh"}},
	}
	for _, tt := range tests {
		if got := withSSHOptions(tt.extra, tt.dir, sshTimeouts(30)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("withSSHOptions(%q, %q) = %q, want %q", tt.extra, tt.dir, got, tt.want)
		}
	}
}

// The initial run keeps 0.2.3's argv: ssh's time limits reach it through
// RSYNC_RSH, unless something else chooses the remote shell.
func TestInitialEnv(t *testing.T) {
	st := Settings{Timeout: 5 * time.Second}
	if got, want := initialEnv(st, "web1:/srv"), []string{"RSYNC_RSH=ssh -o ConnectTimeout=5 -o ServerAliveInterval=15 -o ServerAliveCountMax=4"}; !reflect.DeepEqual(got, want) {
		t.Errorf("initialEnv = %q, want %q", got, want)
	}
	if got := initialEnv(st, "/srv/local"); got != nil {
		t.Errorf("initialEnv of a local target = %q, want nothing", got)
	}
	if got := initialEnv(Settings{Extra: []string{"-e", "ssh -p 2"}}, "web1:/srv"); got != nil {
		t.Errorf("initialEnv with -e in extra = %q, want nothing", got)
	}
	t.Setenv("RSYNC_RSH", "ssh -p 2")
	if got := initialEnv(st, "web1:/srv"); got != nil {
		t.Errorf("initialEnv with RSYNC_RSH set = %q, want nothing", got)
	}
	// Later runs start from the daemon's RSYNC_RSH, or leave another
	// remote shell alone.
	if got, want := withSSHOptions(nil, "", sshTimeouts(30)), []string{"--rsh=ssh -p 2 -o ConnectTimeout=30 -o ServerAliveInterval=15 -o ServerAliveCountMax=4"}; !reflect.DeepEqual(got, want) {
		t.Errorf("withSSHOptions with RSYNC_RSH=%q: %q, want %q", "ssh -p 2", got, want)
	}
	t.Setenv("RSYNC_RSH", "/usr/local/bin/tunnel")
	if got := withSSHOptions(nil, "", sshTimeouts(30)); got != nil {
		t.Errorf("withSSHOptions with another RSYNC_RSH: %q, want extra unchanged", got)
	}
}

// Each daemon gets a control directory of its own, private, and removed
// at stop, also with no remote node yet (a reload may add one).
func TestSSHControl(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	a, b := NewSSHControl(zerolog.Nop()), NewSSHControl(zerolog.Nop())
	if a == nil || b == nil {
		t.Fatal("no control directory")
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
