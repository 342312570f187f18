# testdata/docs/upload_temp_files.py: never wake rsync for upload temp files
wpaths = ["/srv/uploads/"]
rpaths = ["/var/uploads/"]
rnodes = ["files.example.org:"]
edelay = 1

# rsync leaves them out of every run, full or incremental...
rexcludes = ["*.part", "*.tmp", "*~", ".*.swp"]

# ...and this keeps their events from starting a run at all (the patterns
# above already do that; a function can say more, e.g. browser downloads)
TEMP_SUFFIXES = (".part", ".tmp", ".crdownload", "~", ".swp")

def exclude(path, is_dir):
    return not is_dir and path.endswith(TEMP_SUFFIXES)
