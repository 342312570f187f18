# inosync config converted by inosync --convert from the lsyncd config extra-only.lua.
# Check it before use: inosync --check -v -c THIS_FILE prints the rsync command
# of each tree's first sync. Each comment below names a part of the lsyncd
# config that inosync has no equivalent for, at its line.
# Unlike lsyncd, inosync passes rsync no --ignore-errors: after an I/O error
# rsync deletes nothing on the target.

# extra-only.lua:2: delete = "false" (a string): lsyncd deletes only for true, "startup" and "running", so this deleted nothing: delete = False
# extra-only.lua:2: sync{default.rsync}
sync(
    source = "/srv/shared/",
    target = "/srv/shared/",
    nodes = ["files.example.org:"],
    delay = 15,
    delete = False,
    extra = "-lts --no-perms -a --timeout=60",
    rspeed = "200M",
    timeout = 60,
)
