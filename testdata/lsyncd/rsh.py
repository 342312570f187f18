# inosync config converted by inosync --convert from the lsyncd config rsh.lua.
# Check it before use: inosync --check -v -c THIS_FILE prints the rsync command
# of each tree's first sync. Each comment below names a part of the lsyncd
# config that inosync has no equivalent for, at its line.
# Unlike lsyncd, inosync passes rsync no --ignore-errors: after an I/O error
# rsync deletes nothing on the target.

# rsh.lua:2: sync{default.rsync}
sync(
    source = "/srv/www/",
    target = "/var/www/",
    nodes = ["web.example.org:"],
    delay = 15,
    extra = "-ltpgosD --chown=www-data:www-data '--rsh=/usr/bin/ssh -p 2222 -o StrictHostKeyChecking=no' --temp-dir=/var/tmp",
)
