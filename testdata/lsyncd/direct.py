# inosync config converted by inosync --convert from the lsyncd config direct.lua.
# Check it before use: inosync --check -v -c THIS_FILE prints the rsync command
# of each tree's first sync. Each comment below names a part of the lsyncd
# config that inosync has no equivalent for, at its line.
# Unlike lsyncd, inosync passes rsync no --ignore-errors: after an I/O error
# rsync deletes nothing on the target.

# direct.lua:2: default.direct copies with cp, rm and mv; inosync uses rsync to the local target
# direct.lua:2: sync{default.direct}
sync(
    source = "/srv/uploads/",
    target = "/mnt/disk2/uploads/",
    nodes = [""],
    delay = 1,
    excludes = ["*.part", ".~lock.*"],
    extra = "-lts --no-perms",
)
