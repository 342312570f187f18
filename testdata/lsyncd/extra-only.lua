-- Options given only through _extra, as many posted configs do.
sync {
    default.rsync,
    source = "/srv/shared",
    target = "files.example.org:/srv/shared",
    delete = "false",
    rsync  = { _extra = { "-a", "--bwlimit=200M", "--timeout=60" } },
}
