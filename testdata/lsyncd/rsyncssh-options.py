# inosync config converted by inosync --convert from the lsyncd config rsyncssh-options.lua.
# Check it before use: inosync --check -v -c THIS_FILE prints the rsync command
# of each tree's first sync. Each comment below names a part of the lsyncd
# config that inosync has no equivalent for, at its line.
# Unlike lsyncd, inosync passes rsync no --ignore-errors: after an I/O error
# rsync deletes nothing on the target.

# rsyncssh-options.lua:2: default.rsyncssh moves and deletes on the host with ssh; inosync lets rsync do both (a path renamed within the tree is rebuilt there from its old name, not sent again)
# rsyncssh-options.lua:2: sync{default.rsyncssh}
sync(
    source = "/srv/podcasts/",
    target = "/var/podcasts/",
    nodes = ["deploy@cdn.example.org:"],
    delay = 15,
    delete = False,
    excludes = ["*.tmp", "/incoming/"],
    extra = "-ltpgosD --partial '--rsh=ssh -i /etc/lsyncd/id_ed25519 -o Compression=no -o StrictHostKeyChecking=no -p 22'",
)
