package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/inosync/inosync/internal/testutil"
)

// TestDocsExamples keeps docs/*.md honest: every ```python block there is
// a file under testdata/docs/ (named on its first line) with exactly that
// text, every such file is shown in some doc, and every one loads (with
// its /srv/ directories made under a temp root).
func TestDocsExamples(t *testing.T) {
	testutil.NeedRsync(t)
	docs, err := filepath.Glob("../docs/*.md")
	if err != nil || len(docs) == 0 {
		t.Fatalf("no docs: %v", err)
	}
	block := regexp.MustCompile("(?s)```python\n(.*?)```")
	shown := map[string]bool{}
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range block.FindAllStringSubmatch(string(b), -1) {
			first, _, _ := strings.Cut(m[1], "\n")
			name, ok := strings.CutPrefix(first, "# testdata/docs/")
			if !ok {
				t.Errorf("%s: a python block does not start with # testdata/docs/NAME.py: %q", doc, first)
				continue
			}
			name, _, _ = strings.Cut(name, ":")
			want, err := os.ReadFile(filepath.Join("../testdata/docs", name))
			if err != nil {
				t.Errorf("%s shows %s: %v", doc, name, err)
				continue
			}
			if string(want) != m[1] {
				t.Errorf("%s shows %s, but the text differs from testdata/docs/%s", doc, name, name)
			}
			shown[name] = true
		}
	}
	files, _ := filepath.Glob("../testdata/docs/*.py")
	srv := regexp.MustCompile(`"/srv/[^"]*"`)
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			if !shown[name] {
				t.Errorf("testdata/docs/%s is in no doc", name)
			}
			root := t.TempDir()
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			src := srv.ReplaceAllStringFunc(string(b), func(s string) string {
				dir := filepath.Join(root, strings.Trim(s, `"`))
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				return `"` + root + strings.Trim(s, `"`) + `"`
			})
			path := filepath.Join(root, name)
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(path, Options{Cwd: root})
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.Syncs) == 0 || len(cfg.Syncs[0].Dests) == 0 {
				t.Error("no initial sync")
			}
		})
	}
}
