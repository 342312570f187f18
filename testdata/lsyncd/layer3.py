# inosync config converted by inosync --convert from the lsyncd config layer3.lua.
# Check it before use: inosync --check -v -c THIS_FILE prints the rsync command
# of each tree's first sync. Each comment below names a part of the lsyncd
# config that inosync has no equivalent for, at its line.
# Unlike lsyncd, inosync passes rsync no --ignore-errors: after an I/O error
# rsync deletes nothing on the target.

# layer3.lua:15: sync{default.rsync}
sync(
    source = "/srv/www/",
    target = "/var/www/",
    nodes = ["cdn.example.org:"],
    delay = 15,
    extra = "-ltpgosD",
)

# layer3.lua:22: this sync{…} inherits none of lsyncd's default layers: lsyncd ran its own actions, not rsync, and no startup sync; converted as default.rsync with init = False
# layer3.lua:4: onCreate: a custom action (lsyncd layer 1–3) has no equivalent: inosync syncs with rsync, and sync(after = [PROGRAM, …]) runs a program after each sync
# layer3.lua:7: onModify: a custom action (lsyncd layer 1–3) has no equivalent: inosync syncs with rsync, and sync(after = [PROGRAM, …]) runs a program after each sync
# layer3.lua:10: onMove: a custom action (lsyncd layer 1–3) has no equivalent: inosync syncs with rsync, and sync(after = [PROGRAM, …]) runs a program after each sync
# layer3.lua:22: sync{default.rsync}
sync(
    source = "/srv/www/",
    target = "/var/cache/www/",
    nodes = [""],
    delay = 1,
    init = False,
    extra = "-lts --no-perms",
)
