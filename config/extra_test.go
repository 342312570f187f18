package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplitExtra(t *testing.T) {
	env := func(k string) string {
		return map[string]string{"HOME": "/home/sync", "PORT": "2222"}[k]
	}
	tests := []struct {
		in   string
		want []string
		err  string
	}{
		{in: "", want: nil},
		{in: "--rsh=ssh -a", want: []string{"--rsh=ssh", "-a"}},
		{in: "--rsh='ssh -p 2222 -i /etc/k' --chmod=Du=rwx,Dgo=rx", want: []string{"--rsh=ssh -p 2222 -i /etc/k", "--chmod=Du=rwx,Dgo=rx"}},
		{in: `--rsh="ssh -p $PORT" -e\ x`, want: []string{"--rsh=ssh -p 2222", "-e x"}},
		{in: "--password-file=~/pw ~/pw '$HOME' ${HOME}", want: []string{"--password-file=~/pw", "/home/sync/pw", "$HOME", "/home/sync"}},
		{in: "$OPTS", want: nil},
		{in: "--include={a,b} *.tmp", want: []string{"--include={a,b}", "*.tmp"}},
		{in: "-z # a comment", want: []string{"-z"}},
		{in: "--rsh=$(id)", err: `command substitution "--rsh=$(id)" is not allowed`},
		{in: "`id`", err: "command substitution \"`id`\" is not allowed"},
		{in: "-z; rm -rf /", err: "`;` is not a valid word"},
		{in: "-z | sh", err: "`|` is not a valid word"},
		{in: "-z > /tmp/x", err: "`>` is not a valid word"},
		{in: "-z && x", err: "`&&` is not a valid word"},
		{in: `--rsh="ssh`, err: "reached EOF without closing quote"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := SplitExtra(tt.in, env)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("SplitExtra(%q) error = %v, want one containing %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("SplitExtra(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("SplitExtra(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
