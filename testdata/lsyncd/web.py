# inosync config converted by inosync --convert from the lsyncd config web.lua.
# Check it before use: inosync --check -v -c THIS_FILE prints the rsync command
# of each tree's first sync. Each comment below names a part of the lsyncd
# config that inosync has no equivalent for, at its line.
# Unlike lsyncd, inosync passes rsync no --ignore-errors: after an I/O error
# rsync deletes nothing on the target.

# web.lua:2: settings.logfile = "/var/log/lsyncd/lsyncd.log": inosync logs to standard error (the journal under systemd); its own logfile setting is rsync's --log-file, not this
# web.lua:2: settings.maxProcesses = 2: inosync's max_processes bounds the rsync processes over all trees, and counts waiting warm rsyncs too; its default (five per tree and node) is usually right
status_file = "/var/log/lsyncd/lsyncd.status"

# web.lua:8: maxProcesses = 2: inosync runs up to two rsyncs at once per tree and node (for disjoint paths), bounded over all trees by max_processes
# web.lua:8: sync{default.rsync}
sync(
    source = "/srv/www/",
    target = "/var/www/",
    nodes = ["web1.example.org:"],
    delay = 15,
    delete = "running",
    exclude_from = ["/etc/lsyncd/web.excludes"],
    extra = "-ltpgozsD --omit-dir-times --chmod=D2775,F664",
)
