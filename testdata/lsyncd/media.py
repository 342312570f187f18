# inosync config converted by inosync --convert from the lsyncd config media.lua.
# Check it before use: inosync --check -v -c THIS_FILE prints the rsync command
# of each tree's first sync. Each comment below names a part of the lsyncd
# config that inosync has no equivalent for, at its line.
# Unlike lsyncd, inosync passes rsync no --ignore-errors: after an I/O error
# rsync deletes nothing on the target.

# media.lua:2: settings.logfile = "/var/log/lsyncd/media.log": inosync logs to standard error (the journal under systemd); its own logfile setting is rsync's --log-file, not this
# media.lua:2: settings.nodaemon: inosync runs in the foreground unless started with -d, and writes no pid file; run it as a systemd service (inosync.service, from the package or make install)

# media.lua:7: default.rsyncssh moves and deletes on the host with ssh; inosync lets rsync do both (a path renamed within the tree is rebuilt there from its old name, not sent again)
# media.lua:7: sync{default.rsyncssh}
sync(
    source = "/srv/media/",
    target = "/data/media/",
    nodes = ["mirror.example.org:"],
    delay = 30,
    extra = "-ltpgosD '--rsh=ssh -p 2222'",
    rspeed = 5000,
)
