# inosync config converted by inosync --convert from the lsyncd config sites-loop.lua.
# Check it before use: inosync --check -v -c THIS_FILE prints the rsync command
# of each tree's first sync. Each comment below names a part of the lsyncd
# config that inosync has no equivalent for, at its line.
# Unlike lsyncd, inosync passes rsync no --ignore-errors: after an I/O error
# rsync deletes nothing on the target.

# sites-loop.lua:8: sync{default.rsync}
sync(
    source = "/srv/sites/blog/",
    target = "/var/www/blog/",
    nodes = ["static.example.org:"],
    delay = 5,
    extra = "-ltpgozsD",
    rspeed = 1000,
)

# sites-loop.lua:8: sync{default.rsync}
sync(
    source = "/srv/sites/shop/",
    target = "/var/www/shop/",
    nodes = ["static.example.org:"],
    delay = 5,
    extra = "-ltpgozsD",
    rspeed = 1000,
)

# sites-loop.lua:8: sync{default.rsync}
sync(
    source = "/srv/sites/docs/",
    target = "/var/www/docs/",
    nodes = ["static.example.org:"],
    delay = 5,
    extra = "-ltpgozsD",
    rspeed = 1000,
)
