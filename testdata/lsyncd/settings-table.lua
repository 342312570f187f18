-- lsyncd 2.0 style: settings as an assignment.
settings = {
    logfile    = "/var/log/lsyncd.log",
    statusFile = "/var/log/lsyncd.stat",
    statusInterval = 5,
    nodaemon   = true,
    pidfile    = "/var/run/lsyncd.pid",
}

sync{default.rsync, source="/srv/site", target="web.example.org:/srv/site", rsync={compress=true}}
