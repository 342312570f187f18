package compat

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"go.starlark.net/syntax"
)

func TestZZScratch(t *testing.T) {
	b, _ := os.ReadFile("/tmp/rw/in.txt")
	for _, in := range strings.Split(string(b), "\n====\n") {
		res, err := Rewrite("t.py", []byte(in))
		if err != nil {
			fmt.Printf("ERR %v\n", err)
			continue
		}
		opts := syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true, Recursion: true}
		_, perr := opts.Parse("t.py", res.Src, 0)
		fmt.Printf("IN : %q\nOUT: %q\nparse: %v\n", in, res.Src, perr)
		for _, n := range res.Notes {
			fmt.Printf("   note %d:%d %s\n", n.Line, n.Col, n.What)
		}
	}
}
