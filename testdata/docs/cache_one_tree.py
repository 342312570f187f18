# testdata/docs/cache_one_tree.py: a cache directory excluded in one tree only
rnodes = ["web1.example.org:"]

sync(
    source = "/srv/app/",
    target = "/var/app/",
    excludes = ["/var/cache/"],   # only /srv/app/var/cache: not watched, not synced
)

sync(
    source = "/srv/static/",
    target = "/var/static/",     # its var/cache/ is synced as usual
)
