package rsync

import (
	"reflect"
	"testing"
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
