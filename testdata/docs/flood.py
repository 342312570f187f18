# testdata/docs/flood.py: bounds for a tree that sometimes gets millions of events
wpaths = ["/srv/uploads/"]
rpaths = ["/var/uploads/"]
rnodes = ["files1.example.org:", "files2.example.org:", "files3.example.org:"]
edelay = 5

max_processes = 2    # rsync processes at once, over all trees and nodes
max_delay = 30       # no change waits longer than this for its run to start
max_pending = 5000   # past this many changed paths, sync the tree whole once
