//go:build !linux

package watch

import "syscall"

// backFlags open the working directory to come back to after a walk (no
// O_PATH here: it must be readable).
const backFlags = syscall.O_RDONLY | syscall.O_DIRECTORY | syscall.O_CLOEXEC
