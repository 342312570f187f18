# testdata/docs/from_lsyncd.py: the inosync form of a typical lsyncd config
#
#   settings { logfile = "/var/log/lsyncd.log", maxProcesses = 4 }
#   sync { default.rsync, source = "/srv/www/", target = "web1.example.org:/var/www/",
#          delay = 5, exclude = { ".git/", "*.tmp" },
#          rsync = { archive = true, compress = true, rsh = "/usr/bin/ssh -p 2222" } }
#   sync { default.rsync, source = "/srv/www/", target = "web2.example.org:/var/www/",
#          delay = 5, exclude = { ".git/", "*.tmp" },
#          rsync = { archive = true, compress = true, rsh = "/usr/bin/ssh -p 2222" } }
#
# One sync() serves both targets: one watch per directory, and the two
# nodes are synced in parallel from one set of changes.
extra = "-goD -z --rsh='/usr/bin/ssh -p 2222'"   # archive is -rlptgoD; -ltrp (and --delete) is always given
max_processes = 4

sync(
    source = "/srv/www/",
    target = "/var/www/",
    nodes = ["web1.example.org:", "web2.example.org:"],
    excludes = [".git/", "*.tmp"],
    delay = 5,
)
