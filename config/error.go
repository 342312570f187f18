package config

import "fmt"

// Error is a configuration error or warning with the place it points at.
// Line and Col are 0 when the fault is not at one place in the file (a
// missing setting, an unreadable file).
type Error struct {
	File      string
	Line, Col int32
	Msg       string
	// Hint is an optional second sentence ("did you mean …?"), printed on
	// its own line by the command.
	Hint string
}

// Error returns "file:line:col: msg", or "file: msg" without a position.
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}
