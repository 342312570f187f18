# inosync config converted by inosync --convert from the lsyncd config inotify-modify.lua.
# Check it before use: inosync --check -v -c THIS_FILE prints the rsync command
# of each tree's first sync. Each comment below names a part of the lsyncd
# config that inosync has no equivalent for, at its line.
# Unlike lsyncd, inosync passes rsync no --ignore-errors: after an I/O error
# rsync deletes nothing on the target.

# inotify-modify.lua:2: settings.maxDelays = 100: no equivalent; inosync syncs once a tree's delay has passed, or the whole tree past max_pending changed paths
emask = ["IN_MODIFY", "IN_CREATE", "IN_DELETE", "IN_MOVED_FROM", "IN_MOVED_TO"]  # inotifyMode = "Modify"
status_file = "/var/log/lsyncd/status"

# inotify-modify.lua:8: maxDelays = 100: no equivalent; inosync syncs once the delay has passed, or the whole tree past max_pending changed paths
# inotify-modify.lua:8: sync{default.rsync}
sync(
    source = "/srv/logs/",
    target = "/backup/logs/",
    nodes = [""],
    delay = 0,
    extra = "-lts --no-perms",
)
