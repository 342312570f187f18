// Package config loads an inosync configuration file: it reads the file,
// rewrites Python-isms through package compat, evaluates the result as
// sandboxed Starlark and validates the settings into a plain, immutable
// Config.
//
// Every generation of inosync config loads: master 0.2.3's wpaths/rpaths,
// the singular wpath of 0.2.1 and the tagged 0.2.3 (and of the forks that
// append rpath to host-only nodes), 0.2.1's excludes, and one exclude list
// per watched path. Errors are *Error values that name the file and, where
// the fault is in the file, the line and column of the user's own text.
package config
