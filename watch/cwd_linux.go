package watch

import "golang.org/x/sys/unix"

// backFlags open the working directory to come back to after a walk:
// O_PATH needs no permission on it (a daemon started in a directory it may
// search but not read still works), and fchdir accepts such a descriptor.
const backFlags = unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC
