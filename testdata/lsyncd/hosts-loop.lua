-- One tree to every front end: a Lua list and a loop.
local servers = {
    "web1.example.org",
    "web2.example.org",
    "web3.example.org",
}

for _, server in ipairs(servers) do
    sync {
        default.rsync,
        source = "/srv/www/",
        target = server .. ":/var/www/",
        delay  = 2,
        exclude = { "/tmp/", "*.swp" },
        rsync  = { archive = true, compress = true, _extra = { "--omit-dir-times" } },
    }
end
