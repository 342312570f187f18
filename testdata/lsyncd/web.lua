-- Web roots to two front ends, as posted in lsyncd's issue threads.
settings {
    logfile    = "/var/log/lsyncd/lsyncd.log",
    statusFile = "/var/log/lsyncd/lsyncd.status",
    maxProcesses = 2,
}

sync {
    default.rsync,
    source      = "/srv/www",
    target      = "web1.example.org:/var/www",
    delete      = "running",
    excludeFrom = "/etc/lsyncd/web.excludes",
    maxProcesses = 2,
    rsync = {
        archive  = true,
        compress = true,
        _extra   = { "--omit-dir-times", "--chmod=D2775,F664" },
    },
}
