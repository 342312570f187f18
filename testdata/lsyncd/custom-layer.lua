-- A user's own layer, inherited by two syncs.
local common = {
    default.rsync,
    delay  = 3,
    delete = "startup",
    rsync  = { compress = true, perms = true, owner = true, group = true },
}

sync { common, source = "/srv/a", target = "/backup/a" }
sync { common, source = "/srv/b", target = "/backup/b", rsync = { checksum = true } }
