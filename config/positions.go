package config

import (
	"go.starlark.net/syntax"
)

// assignment finds the last top-level statement that assigns name (also
// inside top-level if/for/while blocks), so an error about a setting can
// point at the line that set it.
func (s *source) assignment(name string) *syntax.AssignStmt {
	if s == nil || s.file == nil {
		return nil
	}
	var last *syntax.AssignStmt
	var visit func(stmts []syntax.Stmt)
	visit = func(stmts []syntax.Stmt) {
		for _, st := range stmts {
			switch st := st.(type) {
			case *syntax.AssignStmt:
				if assigns(st.LHS, name) {
					last = st
				}
			case *syntax.IfStmt:
				visit(st.True)
				visit(st.False)
			case *syntax.ForStmt:
				visit(st.Body)
			case *syntax.WhileStmt:
				visit(st.Body)
			}
		}
	}
	visit(s.file.Stmts)
	return last
}

func assigns(lhs syntax.Expr, name string) bool {
	switch x := lhs.(type) {
	case *syntax.Ident:
		return x.Name == name
	case *syntax.TupleExpr:
		for _, e := range x.List {
			if assigns(e, name) {
				return true
			}
		}
	case *syntax.ListExpr:
		for _, e := range x.List {
			if assigns(e, name) {
				return true
			}
		}
	case *syntax.ParenExpr:
		return assigns(x.X, name)
	}
	return false
}

// place is where an error about a setting points.
type place struct {
	line, col int32
}

// settingPos is the position of the value last assigned to name, mapped
// back to the user's text; the zero place when it was not assigned at top
// level.
func (s *source) settingPos(name string) place {
	a := s.assignment(name)
	if a == nil {
		return place{}
	}
	return s.orig(exprStart(a.RHS))
}

// elemPos is the position of element i of the list, tuple or dict literal
// last assigned to name, or of the value itself when it is no such literal.
func (s *source) elemPos(name string, i int) place {
	a := s.assignment(name)
	if a == nil {
		return place{}
	}
	var elems []syntax.Expr
	switch x := unparen(a.RHS).(type) {
	case *syntax.ListExpr:
		elems = x.List
	case *syntax.TupleExpr:
		elems = x.List
	case *syntax.DictExpr:
		for _, e := range x.List {
			if kv, ok := e.(*syntax.DictEntry); ok {
				elems = append(elems, kv.Key)
			}
		}
	}
	if a.Op == syntax.EQ && i >= 0 && i < len(elems) {
		return s.orig(exprStart(elems[i]))
	}
	return s.orig(exprStart(a.RHS))
}

func unparen(e syntax.Expr) syntax.Expr {
	for {
		p, ok := e.(*syntax.ParenExpr)
		if !ok {
			return e
		}
		e = p.X
	}
}

// exprStart is where an expression begins (Span's start; for a binary
// expression that is its left operand).
func exprStart(e syntax.Expr) syntax.Position {
	start, _ := e.Span()
	return start
}

func (s *source) orig(p syntax.Position) place {
	if !p.IsValid() {
		return place{}
	}
	l, c := s.rewrite.Orig(p.Line, p.Col)
	return place{l, c}
}

// defPos is where the top-level function name is defined (def or
// assignment), mapped back.
func (s *source) defPos(name string) place {
	if s == nil || s.file == nil {
		return place{}
	}
	for _, st := range s.file.Stmts {
		if d, ok := st.(*syntax.DefStmt); ok && d.Name.Name == name {
			return s.orig(d.Def)
		}
	}
	return s.settingPos(name)
}
