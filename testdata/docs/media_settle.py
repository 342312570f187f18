# testdata/docs/media_settle.py: big media files go out after writes settle
rnodes = ["cdn.example.org:"]

sync(
    source = "/srv/media/",
    target = "/var/media/",
    # a batch goes out 30 s after its first change: a file still being
    # written is sent at most every 30 s, and once more after its last write
    delay = 30,
    # skip attribute-only changes (touch, chmod) while uploads run
    filter = lambda event: event.name != "IN_ATTRIB",
)
