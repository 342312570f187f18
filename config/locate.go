package config

import (
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// markName is the predeclared name of the marker builtin: it holds a
// space, so no config can write it.
const markName = "inosync mark"

// marker finds the operation that a checking child died in (one step that
// asked for more memory than its hard limit). The locating run adds a call
// of the marker around the last operand of every operator, the last
// argument of every call and the value of every augmented assignment, so
// that the marker runs right before the operation itself and reports its
// position; the last one reported before the child died is the operation
// that killed it. Only that run pays for the markers.
type marker struct {
	l      *loader
	places []childPos
	last   int
	report func(*childPos)
}

// instrument adds the markers to f, a file that passed checkDepth.
func (m *marker) instrument(f *syntax.File) {
	var nodes []syntax.Node
	syntax.Walk(f, func(n syntax.Node) bool {
		switch n.(type) {
		case *syntax.BinaryExpr, *syntax.CallExpr, *syntax.AssignStmt:
			nodes = append(nodes, n)
		}
		return true
	})
	// Changed after the walk: each change wraps a child in a new call.
	for _, n := range nodes {
		switch n := n.(type) {
		case *syntax.BinaryExpr:
			if n.Op != syntax.EQ { // EQ: a keyword argument, done with its call
				n.Y = m.wrap(n.OpPos, n.Y)
			}
		case *syntax.AssignStmt:
			if n.Op != syntax.EQ {
				n.RHS = m.wrap(n.OpPos, n.RHS)
			}
		case *syntax.CallExpr:
			if len(n.Args) == 0 {
				n.Fn = m.wrap(n.Lparen, n.Fn)
				break
			}
			switch last := n.Args[len(n.Args)-1].(type) {
			case *syntax.BinaryExpr: // name = value
				if last.Op == syntax.EQ {
					last.Y = m.wrap(n.Lparen, last.Y)
				} else {
					n.Args[len(n.Args)-1] = m.wrap(n.Lparen, last)
				}
			case *syntax.UnaryExpr: // *args, **kwargs
				if last.X != nil {
					last.X = m.wrap(n.Lparen, last.X)
				}
			default:
				n.Args[len(n.Args)-1] = m.wrap(n.Lparen, last)
			}
		}
	}
}

// wrap returns "inosync mark"(ID, x), which reports pos and gives x.
func (m *marker) wrap(pos syntax.Position, x syntax.Expr) syntax.Expr {
	e := m.l.at(pos, "")
	m.places = append(m.places, childPos{e.File, e.Line, e.Col})
	id := len(m.places) - 1
	return &syntax.CallExpr{
		Fn:     &syntax.Ident{NamePos: pos, Name: markName},
		Lparen: pos,
		Args:   []syntax.Expr{&syntax.Literal{Token: syntax.INT, TokenPos: pos, Raw: "0", Value: int64(id)}, x},
		Rparen: pos,
	}
}

// builtin is the marker as Starlark calls it.
func (m *marker) builtin() *starlark.Builtin {
	m.last = -1
	return starlark.NewBuiltin(markName, func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		id, _ := starlark.AsInt32(args[0])
		if id != m.last && id >= 0 && id < len(m.places) {
			m.last = id
			m.report(&m.places[id])
		}
		return args[1], nil
	})
}
