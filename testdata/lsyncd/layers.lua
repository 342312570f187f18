-- Two layers of one's own: the first named wins, excludes add up, and the
-- target is the remote user's home directory.
local base  = { default.rsync, delay = 3, exclude = { "*.tmp" }, rsync = { compress = true } }
local other = { default.rsync, delay = 7, exclude = { "*.bak" }, rsync = { archive = true } }

sync {
    base, other,
    source  = "/srv/layered",
    target  = "backup.example.org:",
    exclude = { "*.swp" },
}
