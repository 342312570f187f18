-- To an rsync daemon module, with a password file.
sync {
    default.rsync,
    source = "/srv/files",
    target = "backup.example.org::files/site",
    rsync  = {
        archive       = true,
        password_file = "/etc/lsyncd/rsync.secret",
        timeout       = 120,
    },
}
