# testdata/docs/lambda_exclude.py: an exclude function for one tree
rnodes = ["web1.example.org:"]

def big_logs(path, is_dir):
    return path.startswith("logs/") and path.endswith(".gz")

sync(source = "/srv/site/", target = "/var/site/", exclude = big_logs)
sync(source = "/srv/docs/", target = "/var/docs/",
     exclude = lambda path, is_dir: is_dir and path.split("/")[-1] == "node_modules")
