# testdata/docs/ignore_attrib.py: ignore attribute-only changes everywhere
wpaths = ["/srv/www/"]
rpaths = ["/var/www/"]
rnodes = ["web1.example.org:"]
emask = ["IN_CLOSE_WRITE", "IN_CREATE", "IN_DELETE", "IN_MOVED_FROM", "IN_MOVED_TO", "IN_ATTRIB"]

def event_filter(event):
    # event.path, event.source, event.name ("IN_…"), event.is_dir
    if event.name == "IN_ATTRIB" and not event.is_dir:
        return False
    return True
