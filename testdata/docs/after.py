# testdata/docs/after.py: a line in this machine's syslog after each sync to web1
sync(
    source = "/srv/www/",
    target = "/var/www/",
    nodes = ["web1.example.org:"],
    after = ["/usr/bin/logger", "-t", "inosync", "www synced to web1"],
    after_timeout = 10,
)
