# testdata/docs/watcher.py: a big media tree watched with fanotify
sync("/srv/media/", "/var/media/", nodes = ["media1.example.org:"], delay = 5)
watcher = "auto"   # fanotify as root on Linux 5.17+, inotify otherwise
