# inosync config converted by inosync --convert from the lsyncd config functions.lua.
# Check it before use: inosync --check -v -c THIS_FILE prints the rsync command
# of each tree's first sync. Each comment below names a part of the lsyncd
# config that inosync has no equivalent for, at its line.
# Unlike lsyncd, inosync passes rsync no --ignore-errors: after an I/O error
# rsync deletes nothing on the target.

# functions.lua:14: sync{default.rsync}
sync(
    source = "/srv/debian/",
    target = "/mirror/debian/",
    nodes = ["mirror.example.org:"],
    delay = 10,
    excludes = ["/project/trace/"],
    extra = "-ltpgozsD",
)

# functions.lua:15: sync{default.rsync}
sync(
    source = "/srv/ubuntu/",
    target = "/mirror/ubuntu/",
    nodes = ["mirror.example.org:"],
    delay = 60,
    extra = "-ltpgosD",
)
