-- exclude as one string, options one by one, deletion at startup only.
sync {
    default.rsync,
    source  = "/srv/repo",
    target  = "pkg.example.org:/srv/repo",
    exclude = "*.lock",
    delete  = "startup",
    rsync   = {
        perms    = true,
        owner    = true,
        group    = true,
        update   = true,
        sparse   = true,
        one_file_system = true,
    },
}
