# inosync config converted by inosync --convert from the lsyncd config backup.lua.
# Check it before use: inosync --check -v -c THIS_FILE prints the rsync command
# of each tree's first sync. Each comment below names a part of the lsyncd
# config that inosync has no equivalent for, at its line.
# Unlike lsyncd, inosync passes rsync no --ignore-errors: after an I/O error
# rsync deletes nothing on the target.

# backup.lua:2: sync{default.rsync}
sync(
    source = "/srv/data/",
    target = "/backup/data/",
    nodes = [""],
    delay = 15,
    delete = False,
    init = False,
    filters = ["+ /keep/***", "- *.tmp", "- /cache/"],
    extra = "-ltpgoHsD",
)

# backup.lua:13: sync{default.rsync}
sync(
    source = "/srv/home/",
    target = "/backup/home/",
    nodes = ["backup.example.org:"],
    delay = 15,
    delete = False,
    extra = "-ltpgoAXzsD",
)
