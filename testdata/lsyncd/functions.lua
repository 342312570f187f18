-- A helper function that builds the sync tables.
local function mirror(name, opts)
    opts = opts or {}
    return {
        default.rsync,
        source  = "/srv/" .. name,
        target  = "mirror.example.org:/mirror/" .. name,
        delay   = opts.delay or 10,
        exclude = opts.exclude,
        rsync   = { archive = true, compress = opts.compress ~= false },
    }
end

sync(mirror("debian", { exclude = { "/project/trace/" } }))
sync(mirror("ubuntu", { compress = false, delay = 60 }))
