# inosync config converted by inosync --convert from the lsyncd config layers.lua.
# Check it before use: inosync --check -v -c THIS_FILE prints the rsync command
# of each tree's first sync. Each comment below names a part of the lsyncd
# config that inosync has no equivalent for, at its line.
# Unlike lsyncd, inosync passes rsync no --ignore-errors: after an I/O error
# rsync deletes nothing on the target.

# layers.lua:6: sync{default.rsync}
sync(
    source = "/srv/layered/",
    target = "",
    nodes = ["backup.example.org:"],
    delay = 3,
    excludes = ["*.swp", "*.tmp", "*.bak"],
    extra = "-ltpgozsD",
)
