-- A layer-3 action beside a plain sync: a cache purge written as actions.
local purge = {
    delay = 1,
    onCreate = function(event)
        spawn(event, "/usr/local/bin/purge", event.pathname)
    end,
    onModify = function(event)
        spawn(event, "/usr/local/bin/purge", event.pathname)
    end,
    onMove = function(oEvent, dEvent)
        spawn(dEvent, "/usr/local/bin/purge", oEvent.pathname, dEvent.pathname)
    end,
}

sync {
    default.rsync,
    source = "/srv/www",
    target = "cdn.example.org:/var/www",
    rsync  = { archive = true },
}

sync {
    purge,
    source = "/srv/www",
    target = "/var/cache/www",
}
