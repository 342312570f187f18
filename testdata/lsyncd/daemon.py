# inosync config converted by inosync --convert from the lsyncd config daemon.lua.
# Check it before use: inosync --check -v -c THIS_FILE prints the rsync command
# of each tree's first sync. Each comment below names a part of the lsyncd
# config that inosync has no equivalent for, at its line.
# Unlike lsyncd, inosync passes rsync no --ignore-errors: after an I/O error
# rsync deletes nothing on the target.

# daemon.lua:2: sync{default.rsync}
sync(
    source = "/srv/files/",
    target = "files/site/",
    nodes = ["backup.example.org::"],
    delay = 15,
    extra = "-ltpgosD --password-file=/etc/lsyncd/rsync.secret --timeout=120",
    timeout = 120,
)
