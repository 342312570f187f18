-- A remote shell given in rsync's own options.
sync {
    default.rsync,
    source = "/srv/www",
    target = "web.example.org:/var/www",
    rsync  = {
        archive  = true,
        rsh      = "/usr/bin/ssh -p 2222 -o StrictHostKeyChecking=no",
        temp_dir = "/var/tmp",
        chown    = "www-data:www-data",
    },
}
