package config

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// shellPos matches the "1:2: " position the shell parser puts first.
var shellPos = regexp.MustCompile(`^\d+:\d+: `)

// errCommandSubst marks a command substitution found in extra.
var errCommandSubst = errors.New("command substitution")

// SplitExtra splits the rsync options of the `extra` setting the way a POSIX
// shell splits words: quotes and backslashes are honoured and $VAR, ${VAR}
// and ~ are expanded from env, as inosync 0.2.3's shell did. Nothing is ever
// run: command substitution, ';', '|', '&' and redirections are errors, and
// there is no globbing and no brace expansion.
func SplitExtra(s string, env func(string) string) ([]string, error) {
	if env == nil {
		env = func(string) string { return "" }
	}
	cfg := &expand.Config{Env: expand.FuncEnviron(env)}
	p := syntax.NewParser(syntax.Variant(syntax.LangPOSIX))
	var words []string
	for w, err := range p.WordsSeq(strings.NewReader(s)) {
		if err != nil {
			return nil, fmt.Errorf("%s", plainShellError(err))
		}
		if hasCmdSubst(w) {
			return nil, fmt.Errorf("%w %q is not allowed: inosync never runs a shell, so extra may only hold rsync options", errCommandSubst, wordText(s, w))
		}
		noBraces(w)
		fields, err := expand.Fields(cfg, w)
		if err != nil {
			return nil, fmt.Errorf("cannot expand %q: %w", wordText(s, w), err)
		}
		words = append(words, fields...)
	}
	return words, nil
}

// noBraces escapes the braces of unquoted literal text, so that the
// bash-only brace expansion of expand.Fields leaves "{a,b}" as POSIX sh does.
func noBraces(w *syntax.Word) {
	for _, part := range w.Parts {
		if lit, ok := part.(*syntax.Lit); ok {
			lit.Value = strings.NewReplacer("{", `\{`, "}", `\}`).Replace(lit.Value)
		}
	}
}

// hasCmdSubst reports whether the word holds $(…), `…` or a process substitution.
func hasCmdSubst(w *syntax.Word) bool {
	found := false
	syntax.Walk(w, func(n syntax.Node) bool {
		switch n.(type) {
		case *syntax.CmdSubst, *syntax.ProcSubst:
			found = true
		}
		return !found
	})
	return found
}

func wordText(s string, w *syntax.Word) string {
	a, b := int(w.Pos().Offset()), int(w.End().Offset())
	if a >= 0 && b <= len(s) && a <= b {
		return s[a:b]
	}
	return "?"
}

// plainShellError rewords the parser's errors for a sysadmin.
func plainShellError(err error) string {
	msg := err.Error()
	if m := shellPos.FindStringIndex(msg); m != nil {
		msg = msg[m[1]:]
	}
	switch {
	case strings.Contains(msg, "is not a valid word"):
		return msg + ": extra may only hold rsync options (no ;, |, & or redirections: inosync never runs a shell)"
	}
	return msg
}
