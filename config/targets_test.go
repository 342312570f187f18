package config

import (
	"strings"
	"testing"
)

// A local target inside its source (unless excluded), equal to it, or
// holding it (unless nothing is deleted) is refused where the tree is
// written; a target on another node, or beside the source, is not.
func TestTargetsApart(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"wpaths = ['@DIR@/src/']\nrpaths = ['@DIR@/src/inner/copy/']\nrnodes = ['']\n", "cfg.py:2:10: the target @DIR@/src/inner/copy/ lies inside the source"},
		{"wpaths = ['@DIR@/src/']\nrpaths = ['@DIR@/src']\nrnodes = ['']\n", "cfg.py:2:10: the target @DIR@/src of @DIR@/src/ is the source itself"},
		{"sync('@DIR@/src', '@DIR@/', nodes = [''])\n", "cfg.py:1:5: the target @DIR@/ of @DIR@/src is the source itself"},
		{"wpaths = ['@DIR@/src/inner/']\nrpaths = ['@DIR@/src/']\nrnodes = ['']\n", "the source @DIR@/src/inner/ lies inside its target @DIR@/src/"},
		{"sync('@DIR@/src/', 'relative/in', nodes = [''])\n", ""},
		{"wpaths = ['@DIR@/src/']\nrpaths = ['@DIR@/src/inner/']\nrnodes = ['host:']\n", ""},
		{"sync('@DIR@/src/', 'rsync://host/@DIR@/src/inner/', nodes = [''])\n", ""},
		{"sync('@DIR@/src', '@DIR@/other/', nodes = [''])\n", ""},
		{"sync('@DIR@/src/', '@DIR@/other/', nodes = [''])\n", ""},
		{"sync('@DIR@/src/', '@DIR@/src/inner/copy/', nodes = [''], excludes = ['/inner/'])\n", ""},
		{"sync('@DIR@/src', '@DIR@/src/inner/copy/', nodes = [''], excludes = ['/inner/'])\n", "lies inside the source"},
		{"sync('@DIR@/src', '@DIR@/src/inner/copy/', nodes = [''], excludes = ['/src/inner/'])\n", ""},
		{"sync('@DIR@/src/inner/', '@DIR@/src/', nodes = [''], delete = False)\n", ""},
		{"sync('@DIR@/src/inner/', '@DIR@/src/', nodes = [''], delete = 'running')\n", "lies inside its target"},
	} {
		_, dir, err := loadSrc(t, c.src)
		want := strings.ReplaceAll(c.want, "@DIR@", dir)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", c.src, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: error %v, want one containing %q", c.src, err, want)
		}
	}
}
