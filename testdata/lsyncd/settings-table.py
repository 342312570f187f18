# inosync config converted by inosync --convert from the lsyncd config settings-table.lua.
# Check it before use: inosync --check -v -c THIS_FILE prints the rsync command
# of each tree's first sync. Each comment below names a part of the lsyncd
# config that inosync has no equivalent for, at its line.
# Unlike lsyncd, inosync passes rsync no --ignore-errors: after an I/O error
# rsync deletes nothing on the target.

# settings-table.lua:2: settings = {…} is lsyncd 2.0's form, which lsyncd 2.2 refuses (it wants settings {…}); converted as settings for every sync
# settings-table.lua:2: settings.logfile = "/var/log/lsyncd.log": inosync logs to standard error (the journal under systemd); its own logfile setting is rsync's --log-file, not this
# settings-table.lua:2: settings.nodaemon: inosync runs in the foreground unless started with -d, and writes no pid file; run it as a systemd service (inosync.service, from the package or make install)
# settings-table.lua:2: settings.pidfile: inosync runs in the foreground unless started with -d, and writes no pid file; run it as a systemd service (inosync.service, from the package or make install)
status_file = "/var/log/lsyncd.stat"
status_interval = 5

# settings-table.lua:10: sync{default.rsync}
sync(
    source = "/srv/site/",
    target = "/srv/site/",
    nodes = ["web.example.org:"],
    delay = 15,
    extra = "-ltzs --no-perms",
)
