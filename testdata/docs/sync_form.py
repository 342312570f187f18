# testdata/docs/sync_form.py: one sync() per tree, with its own settings
rnodes = ["web1.example.org:", "web2.example.org:"]
edelay = 2

sync(
    source = "/srv/www/",
    target = "/var/www/",
    excludes = ["/cache/", "*.tmp"],
)

sync(
    source = "/srv/uploads/",
    target = "/var/uploads/",
    nodes = ["files.example.org:"],
    delay = 10,
)
