# testdata/docs/observe.py: reporting and drift repair
sync("/srv/www/", "/var/www/", nodes = ["web1.example.org:", "web2.example.org:"], delay = 2)
# the media tree is also synced whole every 6 hours, to repair the targets
sync("/srv/media/", "/var/media/", nodes = ["web1.example.org:"], resync_interval = 6 * 3600)

status_file = "/var/lib/inosync/status.txt"  # lsyncd's statusFile; a .json name writes JSON
status_interval = 10                          # rewritten at most every 10 s, only when it changed
metrics_listen = "127.0.0.1:9810"             # Prometheus /metrics; off when not set
# control_socket = "/run/inosync/web.sock"    # default: named after this file
