package config

import (
	"strings"
	"testing"
)

// A node without ':' (a host name meant for ssh becomes a local directory)
// and two nodes run together by a missing comma are warned about at the
// item; a local prefix, an rsync daemon's "host::" and IPv6 are not.
func TestNodeTypoWarnings(t *testing.T) {
	for nodes, want := range map[string]string{
		`["web2.example.org"]`: `cfg.py:3:11: node "web2.example.org" has no ':'`,
		`["web1:" "web2:"]`:    `cfg.py:3:11: node "web1:web2:" has more than one ':'`,
		`["ok:", "u@h:"]`:      "",
		`["/mnt/backup"]`:      "",
		`["host::"]`:           "",
		`["[fe80::1]:"]`:       "",
		`[""]`:                 "",
	} {
		cfg, _, err := loadSrc(t, "wpaths = ['@DIR@/src/']\nrpaths = ['/var/www/']\nrnodes = "+nodes+"\n")
		if err != nil {
			t.Fatalf("rnodes = %s: %v", nodes, err)
		}
		var got []string
		for _, w := range cfg.Warnings {
			if strings.Contains(w.Msg, "node \"") {
				got = append(got, w.Error())
			}
		}
		switch {
		case want == "" && len(got) > 0:
			t.Errorf("rnodes = %s: warned %q", nodes, got)
		case want != "" && (len(got) != 1 || !strings.Contains(got[0], want)):
			t.Errorf("rnodes = %s: warnings %q, want one containing %q", nodes, got, want)
		}
	}
}

// An rspeed that rsync's --bwlimit would refuse is an error where it is
// written; the forms rsync reads are taken as written.
func TestRspeedForm(t *testing.T) {
	for src, want := range map[string]string{
		"rspeed = 'fast'\nwpaths = ['@DIR@/src/']\nrpaths = ['/x/']\nrnodes = ['h:']\n":                          `cfg.py:1:10: rspeed = "fast" is not a bandwidth rsync reads`,
		"sync('@DIR@/src/', '/x/', nodes = [node('h:', rspeed = '1 m')])\n":                                      `rspeed=…) = "1 m" is not a bandwidth rsync reads`,
		"rspeed = ''\nwpaths = ['@DIR@/src/']\nrpaths = ['/x/']\nrnodes = ['h:']\n":                              "",
		"rspeed = '1.5m'\nwpaths = ['@DIR@/src/']\nrpaths = ['/x/']\nrnodes = [node('h:', rspeed = '500KiB')]\n": "",
	} {
		_, _, err := loadSrc(t, src)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", src, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: error %v, want one containing %q", src, err, want)
		}
	}
}
