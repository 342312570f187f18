# testdata/docs/basic.py: the 0.2.3 form, unchanged
wpaths = ["/srv/www/"]
rpaths = ["/var/www/"]
rnodes = ["deploy@web1.example.org:", "deploy@web2.example.org:"]
rexcludes = [".git/", "*.swp"]
extra = "--rsh='ssh -i /etc/inosync/id_ed25519' --chmod=Du=rwx,Dgo=rx,Fu=rw,Fgo=r"
rspeed = 0
edelay = 2
logfile = "/var/log/inosync-rsync.log"
