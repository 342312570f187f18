# inosync config converted by inosync --convert from the lsyncd config custom-layer.lua.
# Check it before use: inosync --check -v -c THIS_FILE prints the rsync command
# of each tree's first sync. Each comment below names a part of the lsyncd
# config that inosync has no equivalent for, at its line.
# Unlike lsyncd, inosync passes rsync no --ignore-errors: after an I/O error
# rsync deletes nothing on the target.

# custom-layer.lua:9: sync{default.rsync}
sync(
    source = "/srv/a/",
    target = "/backup/a/",
    nodes = [""],
    delay = 3,
    delete = "startup",
    extra = "-ltpgozs",
)

# custom-layer.lua:10: sync{default.rsync}
sync(
    source = "/srv/b/",
    target = "/backup/b/",
    nodes = [""],
    delay = 3,
    delete = "startup",
    extra = "-ltpgozcs",
)
