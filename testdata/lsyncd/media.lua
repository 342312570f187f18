-- Media to a mirror on another ssh port, with a bandwidth limit on this tree.
settings {
    logfile = "/var/log/lsyncd/media.log",
    nodaemon = false,
}

sync {
    default.rsyncssh,
    source    = "/srv/media",
    host      = "mirror.example.org",
    targetdir = "/data/media",
    delay     = 30,
    ssh = {
        port = 2222,
    },
    rsync = {
        archive  = true,
        bwlimit  = 5000,
    },
}
