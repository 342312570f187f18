-- Uploads with a long delay and more processes.
sync {
    default.rsync,
    source = "/srv/uploads",
    target = "/backup/uploads",
    delay  = 120,
    maxProcesses = 4,
    rsync  = { archive = true, whole_file = true, inplace = true },
}
