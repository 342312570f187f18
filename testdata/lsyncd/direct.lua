-- A local copy on another disk with default.direct (cp, rm, mv).
sync {
    default.direct,
    source = "/srv/uploads",
    target = "/mnt/disk2/uploads",
    exclude = { "*.part", ".~lock.*" },
}
