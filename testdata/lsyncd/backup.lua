-- Backups: keep what the target has, never delete there, no startup sync.
sync {
    default.rsync,
    source = "/srv/data",
    target = "/backup/data",
    init   = false,
    delete = false,
    filter = { "+ /keep/***", "- *.tmp", "- /cache/" },
    rsync  = { archive = true, hard_links = true },
}

-- A second sync of another tree with other options.
sync {
    default.rsync,
    source = "/srv/home",
    target = "backup.example.org:/backup/home",
    delete = false,
    rsync  = { archive = true, compress = true, acls = true, xattrs = true },
}
