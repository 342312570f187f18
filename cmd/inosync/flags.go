package main

import (
	"fmt"
	"io"
	"strings"
)

// DefaultConfig is where the config is read from without -c.
const DefaultConfig = "/etc/inosync/default.py"

// options are the parsed command line.
type options struct {
	config    string
	daemon    bool
	pretend   bool
	verbose   bool
	check     bool
	convert   string // --convert FILE: print FILE in the sync() form, exit
	version   bool
	help      bool
	logFormat string // "", "console" or "json"
	detached  bool   // internal: set on the re-executed child of -d
}

// usageError is a command-line mistake: exit 2 with a one-line reason.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// parseArgs reads the command line the way 0.2.3's optparse did: short
// options may be grouped (-dv) and -c takes its value attached (-cFILE) or
// as the next word; long options take --opt=value or --opt value.
func parseArgs(args []string) (*options, error) {
	o := &options{config: DefaultConfig}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			if i+1 < len(args) {
				return nil, &usageError{"too many arguments"}
			}
			return o, nil
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			name, err := longOption(name)
			if err != nil {
				return nil, err
			}
			needVal := func() (string, error) {
				if hasVal {
					return val, nil
				}
				if i+1 >= len(args) {
					return "", &usageError{fmt.Sprintf("--%s option requires an argument", name)}
				}
				i++
				return args[i], nil
			}
			switch name {
			case "version":
				o.version = true
			case "help":
				o.help = true
			case "check":
				o.check = true
			case "convert":
				v, err := needVal()
				if err != nil {
					return nil, err
				}
				if v == "" {
					return nil, &usageError{"--convert needs the config file to convert"}
				}
				o.convert = v
			case "log-format":
				v, err := needVal()
				if err != nil {
					return nil, err
				}
				if v != "console" && v != "json" {
					return nil, &usageError{fmt.Sprintf("--log-format must be console or json, not %q", v)}
				}
				o.logFormat = v
			case "detached":
				o.detached = true
			default:
				return nil, &usageError{"no such option: --" + name}
			}
			if hasVal && name != "log-format" && name != "convert" {
				return nil, &usageError{fmt.Sprintf("--%s option does not take a value", name)}
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			for j := 1; j < len(a); j++ {
				switch a[j] {
				case 'c':
					if j+1 < len(a) {
						o.config = a[j+1:]
					} else if i+1 < len(args) {
						i++
						o.config = args[i]
					} else {
						return nil, &usageError{"-c option requires an argument"}
					}
					j = len(a)
				case 'd':
					o.daemon = true
				case 'p':
					o.pretend = true
				case 'v':
					o.verbose = true
				case 'h':
					o.help = true
				default:
					return nil, &usageError{"no such option: -" + string(a[j])}
				}
			}
		default:
			return nil, &usageError{"too many arguments"}
		}
	}
	return o, nil
}

// longOption resolves an abbreviated long option as optparse did: an exact
// name, or a prefix of exactly one name (--vers is --version).
func longOption(name string) (string, error) {
	if name == "detached" { // internal (-d's child): never abbreviated
		return name, nil
	}
	var matches []string
	for _, o := range []string{"check", "convert", "help", "log-format", "version"} {
		if o == name {
			return o, nil
		}
		if name != "" && strings.HasPrefix(o, name) {
			matches = append(matches, o)
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		return "", &usageError{"no such option: --" + name}
	}
	return "", &usageError{fmt.Sprintf("ambiguous option: --%s (--%s?)", name, strings.Join(matches, ", --"))}
}

// printHelp writes the help text of -h, in 0.2.3's optparse layout.
func printHelp(w io.Writer) {
	fmt.Fprint(w, `Usage: inosync [options]
       inosync status [-c FILE] [--json]
       inosync reload [-c FILE]
       inosync resync [SOURCE] [-c FILE]

Keeps directory trees on other machines in step with local ones: watches
them with inotify and pushes what changed with rsync. The commands ask
the daemon that runs FILE: its status, to read FILE again, a full sync
of one tree or of all.

Options:
  -c FILE            load configuration from FILE (default `+DefaultConfig+`)
  -d                 daemonize: detach into the background, log to syslog
  -p                 do not actually call rsync (log "would execute" instead)
  -v                 print debugging information
  --check            load and validate FILE, print the initial rsync commands
                     one per line, and exit
  --convert=FILE     print config FILE rewritten from wpaths/rpaths (or wpath)
                     to sync() calls, comments kept, or an lsyncd config
                     (Lua) converted to an inosync one, and exit
  --log-format=FMT   console or json (default: console on a terminal, else json)
  --version          show program's version number and exit
  -h, --help         show this help message and exit
`)
}
