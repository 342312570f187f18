-- Syncs on every write, not on close.
settings {
    inotifyMode = "Modify",
    maxDelays = 100,
    statusFile = "/var/log/lsyncd/status",
}

sync {
    default.rsync,
    source = "/srv/logs",
    target = "/backup/logs",
    delay  = 0,
    maxDelays = 10,
}
