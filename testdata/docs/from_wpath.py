# testdata/docs/from_wpath.py: a 0.2.1 / tagged 0.2.3 config, loaded as is
wpath = "/srv/www/"
rpath = "/var/www/"

# whole destinations; a host-only node ("host:") gets rpath appended
rnodes = [
    "web1.example.org:" + rpath,
    "deploy@web2.example.org:",
]

excludes = [".git/"]   # 0.2.1's name; read when rexcludes is absent
edelay = 1             # 0.2.1 needed >= 1; 0 now means "at once"
