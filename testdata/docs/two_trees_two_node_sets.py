# testdata/docs/two_trees_two_node_sets.py: each tree to its own nodes
WEB = ["web1.example.org:", "web2.example.org:"]
BACKUP = ["backup@store.example.net:"]

sync(source = "/srv/www/", target = "/var/www/", nodes = WEB)
sync(source = "/srv/www/", target = "/backup/www/", nodes = BACKUP, delay = 60)
sync(source = "/srv/db-dumps/", target = "/backup/dumps/", nodes = BACKUP)
