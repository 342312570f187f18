# inosync config converted by inosync --convert from the lsyncd config hosts-loop.lua.
# Check it before use: inosync --check -v -c THIS_FILE prints the rsync command
# of each tree's first sync. Each comment below names a part of the lsyncd
# config that inosync has no equivalent for, at its line.
# Unlike lsyncd, inosync passes rsync no --ignore-errors: after an I/O error
# rsync deletes nothing on the target.

# hosts-loop.lua:9: sync{default.rsync}
sync(
    source = "/srv/www/",
    target = "/var/www/",
    nodes = ["web1.example.org:", "web2.example.org:", "web3.example.org:"],
    delay = 2,
    excludes = ["/tmp/", "*.swp"],
    extra = "-ltpgozsD --omit-dir-times",
)
