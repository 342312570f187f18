package lsyncd

import (
	"maps"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// flat is a sync{…} config as inherit merged it, read into Go maps.
type flat struct {
	vals  map[string]lua.LValue
	rsync map[string]lua.LValue
	ssh   map[string]lua.LValue
	layer string          // the default layer inherited: rsync, rsyncssh, direct; "" if none
	user  map[string]bool // keys that the config set, not a default layer
}

// flatten reads a sync call's merged config.
func flatten(c call) flat {
	f := flat{vals: map[string]lua.LValue{}, rsync: map[string]lua.LValue{}, ssh: map[string]lua.LValue{}, layer: c.layer, user: c.user}
	subMerge(f.vals, c.table)
	if t, ok := f.vals["rsync"].(*lua.LTable); ok {
		subMerge(f.rsync, t)
	}
	if t, ok := f.vals["ssh"].(*lua.LTable); ok {
		subMerge(f.ssh, t)
	}
	return f
}

func subMerge(into map[string]lua.LValue, t *lua.LTable) {
	t.ForEach(func(k, v lua.LValue) {
		if key, ok := k.(lua.LString); ok {
			into[string(key)] = v
		}
	})
}

// str reads a string or a number; ok is false for anything else.
func str(v lua.LValue) (string, bool) {
	switch x := v.(type) {
	case lua.LString:
		return string(x), true
	case lua.LNumber:
		return number(float64(x)), true
	}
	return "", false
}

func number(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// truthy is Lua's truth: everything but nil and false.
func truthy(v lua.LValue) bool { return v != nil && lua.LVAsBool(v) }

// strs reads a string or a list of strings.
func strs(v lua.LValue) ([]string, bool) {
	if s, ok := str(v); ok {
		return []string{s}, true
	}
	t, ok := v.(*lua.LTable)
	if !ok {
		return nil, false
	}
	var out []string
	for i := 1; i <= t.MaxN(); i++ {
		s, ok := str(t.RawGetInt(i))
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// settings maps settings{…}: the keys with an equivalent become global
// settings, the others comments.
func (o *output) settings(c call, line int) {
	if c.line > 0 {
		line = c.line
	}
	vals := map[string]lua.LValue{}
	subMerge(vals, c.table)
	for _, k := range slices.Sorted(maps.Keys(vals)) {
		v := vals[k]
		s, _ := str(v)
		switch k {
		case "statusFile":
			if _, isStr := v.(lua.LString); !isStr || s == "" {
				o.fail(line, "settings.statusFile must be a file name, got %s", v.String())
			}
			o.globals = append(o.globals, "status_file = "+quote(s))
		case "statusInterval":
			secs, ok := seconds(v)
			if !ok {
				o.fail(line, "settings.statusInterval must be a number of seconds, got %s", v.String())
			}
			if secs < 1 || secs > 604800 {
				o.globalNotes = append(o.globalNotes, o.note(line, "settings.statusInterval = %s: inosync rewrites the status file at most every 1 to 604800 seconds", s))
				secs = min(max(secs, 1), 604800)
			}
			o.globals = append(o.globals, "status_interval = "+number(math.Ceil(secs)))
		case "delay":
			o.delay = v
		case "logfile":
			o.globalNotes = append(o.globalNotes, o.note(line, "settings.logfile = %q: inosync logs to standard error (the journal under systemd); its own logfile setting is rsync's --log-file, not this", s))
		case "pidfile", "nodaemon":
			o.globalNotes = append(o.globalNotes, o.note(line, "settings.%s: inosync runs in the foreground unless started with -d, and writes no pid file; run it as a systemd service (inosync.service, from the package or make install)", k))
		case "insist":
			o.globalNotes = append(o.globalNotes, o.note(line, "settings.insist: inosync always starts and retries a node it cannot reach, with backoff"))
		case "logident", "logfacility":
			o.globalNotes = append(o.globalNotes, o.note(line, "settings.%s: inosync does not log to syslog itself; journald or the service manager takes its output", k))
		case "maxProcesses":
			o.globalNotes = append(o.globalNotes, o.note(line, "settings.maxProcesses = %s: inosync's max_processes bounds the rsync processes over all trees, and counts waiting warm rsyncs too; its default (five per tree and node) is usually right", s))
		case "maxDelays":
			o.maxDelays = v
			if n, ok := seconds(v); !ok || n > 1 {
				o.globalNotes = append(o.globalNotes, o.note(line, "settings.maxDelays = %s: no equivalent; inosync syncs once a tree's delay has passed, or the whole tree past max_pending changed paths", s))
			}
		case "inotifyMode":
			o.inotifyMode(line, s)
		default:
			o.fail(line, "settings.%s is not an lsyncd setting (lsyncd refuses the config: a misspelling?)", k)
		}
	}
}

// inotifyMode maps settings.inotifyMode to emask.
func (o *output) inotifyMode(line int, mode string) {
	switch mode {
	case "CloseWrite":
		// inosync's default emask syncs on close after a write too.
	case "Modify":
		o.globals = append(o.globals, `emask = ["IN_MODIFY", "IN_CREATE", "IN_DELETE", "IN_MOVED_FROM", "IN_MOVED_TO"]  # inotifyMode = "Modify"`)
	case "CloseWrite or Modify":
		o.globals = append(o.globals, `emask = ["IN_CLOSE_WRITE", "IN_MODIFY", "IN_CREATE", "IN_DELETE", "IN_MOVED_FROM", "IN_MOVED_TO"]  # inotifyMode = "CloseWrite or Modify"`)
	default:
		o.globalNotes = append(o.globalNotes, o.note(line, "settings.inotifyMode = %q: not a mode lsyncd knows; left out", mode))
	}
}

// actionKeys are the sync{…} keys that hold lsyncd's layer 1–3 code.
var actionKeys = map[string]bool{
	"action": true, "collect": true, "prepare": true, "init": true, "onStartup": true,
	"onCreate": true, "onModify": true, "onDelete": true, "onMove": true, "onAttrib": true,
}

// sync maps one sync{…} call to a tree.
func (o *output) sync(c call) {
	f := flatten(c)
	t := tree{line: c.line, layer: f.layer}
	if t.layer == "" && !o.ownActions(&t, f) {
		return
	}
	source, ok := str(f.vals["source"])
	if !ok || source == "" {
		o.globalNotes = append(o.globalNotes, o.note(c.line, "sync{…} has no source; left out"))
		return
	}
	if !path.IsAbs(source) {
		// lsyncd took it from the directory it was started in; inosync
		// would take it from its own (/ under systemd).
		o.fail(c.line, "source = %q is relative: lsyncd read it from the directory it was started in; write the absolute path", source)
		return
	}
	t.source = strings.TrimSuffix(source, "/") + "/" // lsyncd syncs the directory's contents
	if !o.destination(&t, f) {
		return
	}
	o.common(&t, f)
	o.rsyncOptions(&t, f)
	o.deletingExtra(&t)
	o.actions(&t, f)
	o.trees = append(o.trees, t)
}

// deletingExtra makes a tree whose rsync options delete by themselves
// (--delete-excluded, --del… in _extra, which lsyncd passed on to every
// run) delete = True, whatever its delete said: rsync deleted in every
// run, and inosync takes such an option only with delete = True.
func (o *output) deletingExtra(t *tree) {
	i := slices.IndexFunc(t.extra, func(w string) bool { return strings.HasPrefix(w, "--del") })
	if i < 0 || t.delete == "" {
		return
	}
	t.notes = slices.DeleteFunc(t.notes, func(n string) bool { return strings.Contains(n, "so this deleted nothing") })
	t.notes = append(t.notes, o.note(t.line, "whatever delete said (here %s), %s in rsync._extra made rsync delete in every run (lsyncd passed it on): delete = True", t.delete, t.extra[i]))
	t.delete = ""
}

// ownActions converts a sync that inherits none of lsyncd's default
// layers: lsyncd ran its actions (layer 1–3 code, or layer 3 shell
// strings), not rsync. It becomes a default.rsync tree with rsync's
// default options; it starts with a full sync only if lsyncd ran a
// startup action. A sync without actions is refused, as lsyncd refuses
// it (a layer misspelled, such as default.rsynssh, is nil).
func (o *output) ownActions(t *tree, f flat) bool {
	found, startup := false, false
	for k := range actionKeys {
		if v, ok := f.vals[k]; ok && truthy(v) {
			found = true
			startup = startup || k == "onStartup" || k == "init"
		}
	}
	if !found {
		o.fail(t.line, "this sync{…} inherits none of lsyncd's layers (default.rsync, default.rsyncssh, default.direct) and has no actions: lsyncd refuses it (a misspelled layer name?)")
		return false
	}
	t.layer = "rsync"
	for k, v := range defaultRsync {
		if _, set := f.rsync[k]; !set {
			f.rsync[k] = v
		}
	}
	if startup {
		t.notes = append(t.notes, o.note(t.line, "this sync{…} inherits none of lsyncd's default layers: lsyncd ran its own actions, not rsync, and its own startup action; converted as default.rsync, starting with a full rsync"))
		return true
	}
	t.noInit = true
	t.notes = append(t.notes, o.note(t.line, "this sync{…} inherits none of lsyncd's default layers: lsyncd ran its own actions, not rsync, and no startup sync; converted as default.rsync with init = False"))
	return true
}

// destination sets the tree's node and target: default.rsyncssh's host
// and targetdir, or a target of the form HOST:PATH, HOST::MODULE or a
// local path. It says false, with a note, when there is none.
func (o *output) destination(t *tree, f flat) bool {
	if t.layer == "rsyncssh" {
		host, hok := str(f.vals["host"])
		dir, dok := str(f.vals["targetdir"])
		if !hok || !dok {
			o.globalNotes = append(o.globalNotes, o.note(t.line, "sync{default.rsyncssh, source = %q} needs host and targetdir; left out", t.source))
			return false
		}
		t.nodes, t.target = []string{host + ":"}, withSlash(dir)
		return true
	}
	target, ok := str(f.vals["target"])
	if !ok || target == "" {
		o.globalNotes = append(o.globalNotes, o.note(t.line, "sync{default.%s, source = %q} has no target; left out", t.layer, t.source))
		return false
	}
	node, path := splitTarget(target)
	t.nodes, t.target = []string{node}, withSlash(path)
	return true
}

// splitTarget splits an rsync destination into the node and the path on
// it: "host:" or "user@host:" ("[v6addr]:" too), "host::" for an rsync
// daemon, "rsync://host/" for its URL form, and "" for a local path.
func splitTarget(target string) (node, path string) {
	if rest, ok := strings.CutPrefix(target, "rsync://"); ok {
		host, p, _ := strings.Cut(rest, "/")
		return "rsync://" + host + "/", p
	}
	start := 0
	if strings.HasPrefix(target, "[") { // an IPv6 address: the host ends at ']'
		if j := strings.Index(target, "]"); j > 0 {
			start = j
		}
	}
	i := strings.Index(target[start:], ":")
	if i < 0 || strings.Contains(target[:start+i], "/") {
		return "", target
	}
	end := start + i + 1
	if strings.HasPrefix(target[end:], ":") {
		end++
	}
	return target[:end], target[end:]
}

// withSlash ends a path in '/', as lsyncd's prepare does; an empty one
// (a home directory: "host:") stays empty.
func withSlash(p string) string {
	if p == "" {
		return ""
	}
	return strings.TrimSuffix(p, "/") + "/"
}

// common maps the settings that every layer reads.
func (o *output) common(t *tree, f flat) {
	delay := 15.0
	dv := f.vals["delay"]
	if o.delay != nil { // settings{ delay = … } overrides every sync's
		dv = o.delay
	}
	if dv != nil {
		if d, ok := seconds(dv); ok {
			delay = d
		} else {
			t.notes = append(t.notes, o.note(t.line, "delay = %s: not a number of seconds; left at 15", dv.String()))
		}
	}
	t.delay = number(delay)
	o.maxDelay = max(o.maxDelay, delay)
	switch v := f.vals["delete"]; {
	case v == nil || v == lua.LTrue:
	case v == lua.LFalse:
		t.delete = "False"
	case v == lua.LString("startup") || v == lua.LString("running"):
		t.delete = quote(string(v.(lua.LString)))
	default:
		// lsyncd deletes only for exactly these; anything else deleted nothing.
		t.delete = "False"
		t.notes = append(t.notes, o.note(t.line, "delete = %s (a %s): lsyncd deletes only for true, \"startup\" and \"running\", so this deleted nothing: delete = False", quote(v.String()), v.Type()))
	}
	if v, ok := f.vals["init"]; ok && v == lua.LFalse {
		t.noInit = true
	}
	t.excludes = o.patterns(t.line, f, "exclude")
	t.excludeFrom = o.patterns(t.line, f, "excludeFrom")
	for _, p := range t.excludeFrom {
		if !path.IsAbs(p) {
			t.notes = append(t.notes, o.note(t.line, "excludeFrom = %q is relative: lsyncd read it from the directory it was started in, inosync reads it from the config's directory", p))
		}
	}
	t.filters = o.patterns(t.line, f, "filter")
	if v, ok := f.vals["filterFrom"]; ok {
		s, _ := str(v)
		t.notes = append(t.notes, o.note(t.line, "filterFrom = %q: inosync reads no filter file; give its rules as filters = [\"+ …\", \"- …\"] (exclude_from takes a file of exclude patterns)", s))
	}
	if f.user["maxProcesses"] {
		s, _ := str(f.vals["maxProcesses"])
		t.notes = append(t.notes, o.note(t.line, "maxProcesses = %s: inosync runs up to two rsyncs at once per tree and node (for disjoint paths), bounded over all trees by max_processes", s))
	}
	maxDelays := f.vals["maxDelays"]
	if o.maxDelays != nil {
		maxDelays = o.maxDelays
	}
	if n, ok := seconds(maxDelays); ok && n <= 1 && (f.user["maxDelays"] || o.maxDelays != nil) {
		t.delay = "0" // lsyncd synced each event at once
		t.notes = append(t.notes, o.note(t.line, "maxDelays = 1: lsyncd synced each change at once; delay = 0"))
	} else if f.user["maxDelays"] {
		s, _ := str(maxDelays)
		t.notes = append(t.notes, o.note(t.line, "maxDelays = %s: no equivalent; inosync syncs once the delay has passed, or the whole tree past max_pending changed paths", s))
	}
	known := map[string]bool{"source": true, "target": true, "host": true, "targetdir": true, "delay": true, "delete": true,
		"init": true, "exclude": true, "excludeFrom": true, "filter": true, "filterFrom": true, "maxProcesses": true, "maxDelays": true,
		"exitcodes": true, "rsyncExitCodes": true, "sshExitCodes": true, "checkgauge": true}
	for _, k := range []string{"exitcodes", "rsyncExitCodes", "sshExitCodes"} {
		if f.user[k] {
			t.notes = append(t.notes, o.note(t.line, "%s: inosync has its own rules for rsync's exit codes: 0 and 24 are success, a configuration fault waits longest, other failures are retried with backoff (docs/operations.md)", k))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(f.user)) {
		if !known[k] && !actionKeys[k] && k != "rsync" && k != "ssh" {
			o.fail(t.line, "%s is not an lsyncd sync setting (lsyncd refuses the config: a misspelling?)", k)
		}
	}
}

// shortFlags are default.rsync's one-letter options, in the order they
// are written here (lsyncd's own order is that of a Lua table walk).
var shortFlags = []struct{ key, flag string }{
	{"links", "l"}, {"times", "t"}, {"perms", "p"}, {"group", "g"}, {"owner", "o"},
	{"hard_links", "H"}, {"acls", "A"}, {"xattrs", "X"}, {"executability", "E"}, {"sparse", "S"},
	{"compress", "z"}, {"checksum", "c"}, {"update", "u"}, {"whole_file", "W"}, {"one_file_system", "x"},
	{"omit_dir_times", "O"}, {"omit_link_times", "J"}, {"keep_dirlinks", "K"}, {"copy_dirlinks", "k"},
	{"copy_links", "L"}, {"cvs_exclude", "C"}, {"prune_empty_dirs", "m"}, {"protect_args", "s"},
	{"backup", "b"}, {"ignore_times", "I"}, {"ipv4", "4"}, {"ipv6", "6"}, {"dry_run", "n"},
	{"quiet", "q"}, {"verbose", "v"},
}

// longFlags are default.rsync's long options: a flag, or an option with
// a value (ending in '=').
var longFlags = []struct{ key, opt string }{
	{"append", "--append"}, {"append_verify", "--append-verify"}, {"backup_dir", "--backup-dir="},
	{"bwlimit", "--bwlimit="}, {"chmod", "--chmod="}, {"chown", "--chown="}, {"groupmap", "--groupmap="},
	{"existing", "--existing"}, {"inplace", "--inplace"}, {"password_file", "--password-file="},
	{"rsh", "--rsh="}, {"rsync_path", "--rsync-path="}, {"suffix", "--suffix="}, {"temp_dir", "--temp-dir="},
	{"timeout", "--timeout="}, {"usermap", "--usermap="},
}

// archiveFlags are what rsync = {archive = true} implies (unless set).
var archiveFlags = map[string]bool{"links": true, "perms": true, "times": true, "group": true, "owner": true, "devices": true, "specials": true}

// rsyncOptions computes the rsync words lsyncd passes (prepare in
// default-rsync.lua, and default-rsyncssh.lua's --rsh) into the tree's
// extra, rspeed, timeout and rsync. inosync always passes -ltrp first, so
// an option of those that lsyncd did not pass is turned off right after
// the letters (--no-perms), where _extra may still turn it on again as
// it did in lsyncd. Options of _extra that inosync sets itself after
// extra (--bwlimit, --timeout) become its settings.
func (o *output) rsyncOptions(t *tree, f flat) {
	r := f.rsync
	if truthy(r["archive"]) {
		for k, v := range archiveFlags {
			if _, set := r[k]; !set {
				r[k] = lua.LBool(v)
			}
		}
	}
	shorts := ""
	for _, s := range shortFlags {
		if truthy(r[s.key]) {
			shorts += s.flag
		}
	}
	devices, specials := truthy(r["devices"]), truthy(r["specials"])
	if devices && specials {
		shorts += "D"
	}
	if shorts != "" {
		t.extra = append(t.extra, "-"+shorts)
	}
	for _, k := range []struct{ key, off string }{{"links", "--no-links"}, {"times", "--no-times"}, {"perms", "--no-perms"}} {
		if !truthy(r[k.key]) {
			t.extra = append(t.extra, k.off)
		}
	}
	if v := r["_extra"]; v != nil {
		l, ok := strs(v)
		if !ok {
			o.fail(t.line, "rsync._extra must be a list of strings, got %s", v.Type())
		}
		t.extra = append(t.extra, o.extraWords(t, l)...)
	}
	if devices && !specials {
		t.extra = append(t.extra, "--devices")
	}
	if specials && !devices {
		t.extra = append(t.extra, "--specials")
	}
	for _, l := range longFlags {
		v := r[l.key]
		if !truthy(v) {
			continue
		}
		if !strings.HasSuffix(l.opt, "=") {
			t.extra = append(t.extra, l.opt)
			continue
		}
		s, ok := str(v)
		if !ok {
			o.fail(t.line, "rsync.%s must be a string or a number, got %s", l.key, v.Type())
			continue
		}
		switch l.key {
		case "bwlimit": // inosync passes --bwlimit itself, after extra
			t.rspeed = rspeedLiteral(s)
			continue
		case "timeout":
			if _, ok := seconds(v); !ok {
				o.fail(t.line, "rsync.timeout must be a number of seconds, got %s", v.String())
				continue
			}
			t.timeout = s // the runs after the first; the first gets it from extra
		}
		t.extra = append(t.extra, l.opt+s)
	}
	if t.layer == "rsyncssh" {
		if rsh := sshRsh(f.ssh); rsh != "" {
			t.extra = append(t.extra, rsh)
		}
		if _, ok := f.ssh["_extra"]; ok {
			t.notes = append(t.notes, o.note(t.line, "ssh._extra: lsyncd gave these to its own ssh commands (moves and deletes on the host), not to rsync; inosync runs none: ssh options for rsync go in ssh.identityFile, ssh.options or ssh.port"))
		}
	}
	if b, ok := str(r["binary"]); ok && b != "/usr/bin/rsync" {
		if path.IsAbs(b) {
			t.rsync = b
		} else {
			t.notes = append(t.notes, o.note(t.line, "rsync.binary = %q: inosync needs the rsync binary's absolute path; left at /usr/bin/rsync", b))
		}
	}
	known := map[string]bool{"archive": true, "devices": true, "specials": true, "_extra": true, "binary": true, "recursive": true}
	for _, s := range shortFlags {
		known[s.key] = true
	}
	for _, l := range longFlags {
		known[l.key] = true
	}
	for _, k := range slices.Sorted(maps.Keys(r)) {
		if !known[k] {
			o.fail(t.line, "rsync.%s is not an rsync option lsyncd knows (lsyncd refuses the config: a misspelling?)", k)
		}
	}
}

// extraWords are rsync._extra's words for extra. --bwlimit and --timeout
// become rspeed and timeout, which inosync passes after extra (so that
// in extra they would be overridden); --modify-window is noted, since the
// runs after the first pass their own after extra.
func (o *output) extraWords(t *tree, words []string) []string {
	var out []string
	for i := 0; i < len(words); i++ {
		w := words[i]
		if (w == "--bwlimit" || w == "--timeout") && i+1 < len(words) { // the value as the next word
			w += "=" + words[i+1]
			i++
		}
		switch {
		case strings.HasPrefix(w, "--bwlimit="):
			t.rspeed = rspeedLiteral(strings.TrimPrefix(w, "--bwlimit="))
			continue
		case strings.HasPrefix(w, "--timeout="):
			if _, ok := seconds(lua.LString(strings.TrimPrefix(w, "--timeout="))); ok {
				t.timeout = strings.TrimPrefix(w, "--timeout=")
			}
		case strings.HasPrefix(w, "--modify-window"):
			t.notes = append(t.notes, o.note(t.line, "rsync._extra %q: the runs after the first pass --modify-window=-1 after extra, which wins", w))
		}
		out = append(out, w)
	}
	return out
}

// rspeedLiteral is the Starlark value of rspeed for a bandwidth limit: a
// number of KB/s as a number, another form (200M) as a string.
func rspeedLiteral(s string) string {
	if _, ok := seconds(lua.LString(s)); ok {
		return s
	}
	return quote(s)
}

// sshRsh is default.rsyncssh's --rsh for rsync: ssh with the identity
// file, the options (in name order) and the port of ssh = {…}.
func sshRsh(ssh map[string]lua.LValue) string {
	rsh := ""
	add := func(s string) {
		if rsh == "" {
			rsh = "--rsh=ssh"
		}
		rsh += " " + s
	}
	if id, ok := str(ssh["identityFile"]); ok {
		add("-i " + id)
	}
	if opts, ok := ssh["options"].(*lua.LTable); ok {
		m := map[string]lua.LValue{}
		subMerge(m, opts)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			v, _ := str(m[k])
			add("-o " + k + "=" + v)
		}
	}
	if port, ok := str(ssh["port"]); ok {
		add("-p " + port)
	}
	return rsh
}

// actions notes the layer 1–3 code a sync carries (a custom action, an
// onCreate…), which inosync cannot run, and the default layers' moves.
func (o *output) actions(t *tree, f flat) {
	for _, k := range slices.Sorted(maps.Keys(f.user)) {
		if !actionKeys[k] {
			continue
		}
		line := t.line
		if fn, ok := f.vals[k].(*lua.LFunction); ok && fn.Proto != nil {
			line = fn.Proto.LineDefined
		}
		switch {
		case k == "onMove" && f.vals[k] == lua.LTrue:
			t.notes = append(t.notes, o.note(line, "onMove = true: inosync has no move action of its own; rsync rebuilds a path renamed within the tree on the target from its old name"))
		case k == "init" && f.vals[k] == lua.LFalse:
			// init = false: mapped by common
		case k == "onStartup" || k == "init":
			t.notes = append(t.notes, o.note(line, "%s: lsyncd's own startup action has no equivalent; inosync starts with a full rsync (init = False skips it)", k))
		default:
			t.notes = append(t.notes, o.note(line, "%s: a custom action (lsyncd layer 1–3) has no equivalent: inosync syncs with rsync, and sync(after = [PROGRAM, …]) runs a program after each sync", k))
		}
	}
	switch t.layer {
	case "rsyncssh":
		t.notes = append(t.notes, o.note(t.line, "default.rsyncssh moves and deletes on the host with ssh; inosync lets rsync do both (a path renamed within the tree is rebuilt there from its old name, not sent again)"))
	case "direct":
		t.notes = append(t.notes, o.note(t.line, "default.direct copies with cp, rm and mv; inosync uses rsync to the local target"))
	}
}

// patterns reads a sync's exclude, excludeFrom or filter: a string or a
// list of strings. Anything else fails the conversion: leaving patterns
// out would sync, and with delete delete on the target, what they keep
// out.
func (o *output) patterns(line int, f flat, key string) []string {
	v, ok := f.vals[key]
	if !ok {
		return nil
	}
	l, ok := strs(v)
	if !ok {
		o.fail(line, "%s must be a string or a list of strings, got %s", key, v.Type())
	}
	return l
}

// seconds reads a delay, an interval or a rate: a number from 0 to 1e9
// (what inosync's settings take), or a numeric string.
func seconds(v lua.LValue) (float64, bool) {
	s, ok := str(v)
	if !ok {
		return 0, false
	}
	d, err := strconv.ParseFloat(s, 64)
	return d, err == nil && d >= 0 && d <= 1e9
}
