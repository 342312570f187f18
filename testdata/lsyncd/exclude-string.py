# inosync config converted by inosync --convert from the lsyncd config exclude-string.lua.
# Check it before use: inosync --check -v -c THIS_FILE prints the rsync command
# of each tree's first sync. Each comment below names a part of the lsyncd
# config that inosync has no equivalent for, at its line.
# Unlike lsyncd, inosync passes rsync no --ignore-errors: after an I/O error
# rsync deletes nothing on the target.

# exclude-string.lua:2: sync{default.rsync}
sync(
    source = "/srv/repo/",
    target = "/srv/repo/",
    nodes = ["pkg.example.org:"],
    delay = 15,
    delete = "startup",
    excludes = ["*.lock"],
    extra = "-ltpgoSuxs",
)
