package config

import (
	"errors"
	"fmt"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// nodeConstructor marks the values that node() makes.
const nodeConstructor = starlark.String("node")

// nodeBuiltin is node(target, extra = None, rspeed = None, after = None):
// a node of a sync() with rsync options of its own (another ssh port or
// identity, a bandwidth limit), appended after the tree's and given in
// place of its rspeed, and an after command in place of the tree's.
func (b *builder) nodeBuiltin(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var target string
	var extra, rspeed, after starlark.Value = starlark.None, starlark.None, starlark.None
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "target", &target, "extra?", &extra, "rspeed?", &rspeed, "after?", &after); err != nil {
		return nil, withKeywordHint(err, kwargs, []string{"target", "extra", "rspeed", "after"})
	}
	if hasNUL(target) {
		return nil, fmt.Errorf("%s", nulMessage("node(target=…)", target))
	}
	if extra != starlark.None {
		s, ok := extra.(starlark.String)
		if !ok {
			return nil, fmt.Errorf("node(extra=…) must be a string of rsync options, got %s", describe(extra))
		}
		if hasNUL(string(s)) {
			return nil, fmt.Errorf("%s", nulMessage("node(extra=…)", string(s)))
		}
	}
	if rspeed != starlark.None {
		if _, err := rspeedValue(rspeed, "node(rspeed=…)"); err != nil {
			return nil, err
		}
	}
	if after != starlark.None {
		if _, err := afterArgv(after, "node(after=…)"); err != nil {
			return nil, err
		}
	}
	return starlarkstruct.FromStringDict(nodeConstructor, starlark.StringDict{
		"target": starlark.String(target), "extra": extra, "rspeed": rspeed, "after": after,
	}), nil
}

// nodeSpec is one entry of sync(nodes=…): a node as written, and its own
// options (nil and "" when it has none).
type nodeSpec struct {
	target  string
	extra   []string
	bwlimit string
	after   []string
}

// nodeItems reads sync(nodes=…): strings and node() values. env expands
// variables in a node's extra, as in extra.
func nodeItems(l *starlark.List, env map[string]string) ([]nodeSpec, error) {
	out := make([]nodeSpec, 0, l.Len())
	for i := range l.Len() {
		n, err := nodeItem(l.Index(i), fmt.Sprintf("item %d", i), env)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// nodeItem reads one node of a list (named name in errors): a string, or
// a node() value.
func nodeItem(v starlark.Value, name string, env map[string]string) (nodeSpec, error) {
	switch x := v.(type) {
	case starlark.String:
		if hasNUL(string(x)) {
			return nodeSpec{}, errors.New(nulMessage(name, string(x)))
		}
		return nodeSpec{target: string(x)}, nil
	case *starlarkstruct.Struct:
		if x.Constructor() == nodeConstructor {
			n, err := nodeOf(x, env)
			if err != nil {
				return n, fmt.Errorf("%s: %v", name, err)
			}
			return n, nil
		}
	}
	return nodeSpec{}, fmt.Errorf("%s must be a string or node(…), got %s", name, describe(v))
}

// nodeOf reads a node() value, checked when it was made.
func nodeOf(v *starlarkstruct.Struct, env map[string]string) (nodeSpec, error) {
	t, _ := v.Attr("target")
	n := nodeSpec{target: string(t.(starlark.String))}
	if x, _ := v.Attr("extra"); x != starlark.None {
		words, err := SplitExtra(string(x.(starlark.String)), func(k string) string { return env[k] })
		if err != nil {
			return n, fmt.Errorf("node(extra=…): %v", err)
		}
		n.extra = words
	}
	if r, _ := v.Attr("rspeed"); r != starlark.None {
		n.bwlimit, _ = rspeedValue(r, "node(rspeed=…)")
	}
	if a, _ := v.Attr("after"); a != starlark.None {
		n.after, _ = afterArgv(a, "node(after=…)") // checked when made
	}
	return n, nil
}

// dest is the Dest of the node for the whole rsync destination path.
func (n nodeSpec) dest(path string) Dest {
	return Dest{Node: n.target, Path: path, Extra: n.extra, Bwlimit: n.bwlimit, After: n.after}
}

// rnodes reads the rnodes setting: like sync(nodes=…), a list of strings
// and node(…) values, with errors at the item's position.
func (b *builder) rnodes(g starlark.StringDict, env map[string]string) ([]nodeSpec, error) {
	v := g["rnodes"]
	items, ok := sequence(v)
	if !ok {
		e := b.errAt(b.src.settingPos("rnodes"), "rnodes must be a list of strings, got %s", describe(v))
		if s, isStr := v.(starlark.String); isStr {
			e.Msg += fmt.Sprintf(" (write rnodes = [%s])", s.String())
		}
		return nil, e
	}
	out := make([]nodeSpec, 0, len(items))
	for i, it := range items {
		n, err := nodeItem(it, fmt.Sprintf("rnodes[%d]", i), env)
		if err != nil {
			return nil, b.errAt(b.src.elemPos("rnodes", i), "%v", err)
		}
		b.warnNodeTypo(b.src.elemPos("rnodes", i), n.target)
		out = append(out, n)
	}
	return out, nil
}

// warnNodeTypo warns about a node that looks mistyped: a host name
// without its ':' (rsync then writes to a local directory of that name),
// or two nodes run together by a missing comma (["a:" "b:"] is "a:b:").
// An rsync daemon's "host::" and an IPv6 address are left alone.
func (b *builder) warnNodeTypo(p place, node string) {
	switch {
	case node != "" && !strings.ContainsAny(node, ":/"):
		b.warnAt(p, "node %q has no ':', so its target is a local directory of that name below the start-up directory: write %q for a node over ssh", node, node+":")
	case strings.Count(node, ":") > 1 && !strings.Contains(node, "::") && !strings.ContainsAny(node, "[/"):
		b.warnAt(p, "node %q has more than one ':', as two nodes written without a comma between them run together: write each as an item of its own", node)
	}
}
