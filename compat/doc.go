// Package compat turns the Python that people really wrote in inosync
// configs into Starlark that go.starlark.net accepts, and provides the
// read-only shim modules (os, os.path, socket, inspect) such configs import.
//
// See rewrite.go for the list of source rewrites and shims.go for the shims.
package compat
