# inosync configuration: /etc/inosync/default.py
#
# This file is Python as far as inosync 0.2.x configs went (it is read as
# Starlark, a sandboxed Python dialect: no file, process or network access).
# Run `inosync -c /etc/inosync/default.py --check` to see the rsync commands
# it gives before you start the daemon.

# directories to watch; a trailing slash syncs the directory's contents,
# without one the directory itself
wpaths = ["/var/www/"]

# remote path for each watched path, same order
rpaths = ["/var/www/"]

# destinations: each gets node + rpath ("" is a local copy to rpath)
rnodes = [
	"web1.example.org:",
#	"deploy@web2.example.org:",
]

# rsync --exclude patterns, for every watched path
#rexcludes = [
#	".git/",
#	"*.swp",
#]

# extra rsync options, split as a shell splits words (never run by a shell)
#extra = "--rsh='ssh -i /etc/inosync/id_ed25519'"

# bandwidth limit in KB/s (0 = none)
#rspeed = 0

# inotify events that start a sync
#emask = [
#	"IN_CLOSE_WRITE",
#	"IN_CREATE",
#	"IN_DELETE",
#	"IN_MOVED_FROM",
#	"IN_MOVED_TO",
#]

# seconds to collect events before syncing, counted from the first
#edelay = 10

# rsync's own log file
#logfile = "/var/log/inosync.log"

# the rsync binary
#rsync = "/usr/bin/rsync"
