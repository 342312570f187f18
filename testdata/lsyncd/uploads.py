# inosync config converted by inosync --convert from the lsyncd config uploads.lua.
# Check it before use: inosync --check -v -c THIS_FILE prints the rsync command
# of each tree's first sync. Each comment below names a part of the lsyncd
# config that inosync has no equivalent for, at its line.
# Unlike lsyncd, inosync passes rsync no --ignore-errors: after an I/O error
# rsync deletes nothing on the target.

max_delay = 120  # the longest delay below (inosync's default caps delays at 60)

# uploads.lua:2: maxProcesses = 4: inosync runs up to two rsyncs at once per tree and node (for disjoint paths), bounded over all trees by max_processes
# uploads.lua:2: sync{default.rsync}
sync(
    source = "/srv/uploads/",
    target = "/backup/uploads/",
    nodes = [""],
    delay = 120,
    extra = "-ltpgoWsD --inplace",
)
