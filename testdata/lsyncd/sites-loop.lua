-- Several sites to one host, built with string concatenation.
local base = "/srv/sites/"
local host = "static.example.org"
local sites = { "blog", "shop", "docs" }

for i = 1, #sites do
    local site = sites[i]
    sync {
        default.rsync,
        source = base .. site,
        target = host .. ":/var/www/" .. site,
        delay  = 5,
        rsync  = { archive = true, compress = true, bwlimit = 1000 },
    }
end
