-- rsyncssh with an identity, ssh options and excludes; nothing deleted.
sync {
    default.rsyncssh,
    source    = "/srv/podcasts",
    host      = "deploy@cdn.example.org",
    targetdir = "/var/podcasts",
    delete    = false,
    exclude   = { "*.tmp", "/incoming/" },
    ssh = {
        identityFile = "/etc/lsyncd/id_ed25519",
        options = { StrictHostKeyChecking = "no", Compression = "no" },
        port = 22,
    },
    rsync = { archive = true, _extra = { "--partial" } },
}
