package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/inosync/inosync/cmd/inosync/control"
	"github.com/inosync/inosync/cmd/inosync/status"
	"github.com/inosync/inosync/config"
)

// clientTimeout bounds a client command's exchange with the daemon; a
// reload walks new trees before it answers.
const clientTimeout = 2 * time.Minute

// isClientCommand reports whether args start with one of the commands that
// talk to a running daemon.
func isClientCommand(args []string) bool {
	if len(args) == 0 {
		return false
	}
	switch args[0] {
	case control.CmdStatus, control.CmdReload, control.CmdResync:
		return true
	}
	return false
}

// clientArgs are the parsed arguments of status, reload and resync.
type clientArgs struct {
	command string
	config  string
	json    bool   // status --json
	source  string // resync SOURCE
}

func parseClientArgs(args []string) (clientArgs, error) {
	a := clientArgs{command: args[0], config: DefaultConfig}
	rest := args[1:]
	for i := 0; i < len(rest); i++ {
		w := rest[i]
		switch {
		case w == "-c" || w == "--config":
			if i+1 >= len(rest) {
				return a, &usageError{w + " option requires an argument"}
			}
			i++
			a.config = rest[i]
		case strings.HasPrefix(w, "-c") && len(w) > 2:
			a.config = w[2:]
		case strings.HasPrefix(w, "--config="):
			a.config = strings.TrimPrefix(w, "--config=")
		case w == "--json" && a.command == control.CmdStatus:
			a.json = true
		case strings.HasPrefix(w, "-"):
			return a, &usageError{fmt.Sprintf("no such option for %s: %s", a.command, w)}
		case a.command == control.CmdResync && a.source == "":
			a.source = w
		default:
			return a, &usageError{"too many arguments"}
		}
	}
	return a, nil
}

// runClient is `inosync status|reload|resync`: it asks the daemon that
// runs the config on its control socket. Exit statuses: status 0 (in sync
// or merely pending), 1 (a node failing), 3 (no daemon answers); reload
// and resync 0 when done, 1 when refused (a bad config), 3 likewise.
func runClient(args []string, stdout, stderr io.Writer) int {
	a, err := parseClientArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "Usage: inosync %s [-c FILE]%s\n", args[0], clientUsage(args[0]))
		fmt.Fprintf(stderr, "inosync: error: %v\n", err)
		return 2
	}
	resp, err := control.Call(socketFor(a.config, stderr), control.Request{Command: a.command, Source: a.source}, clientTimeout)
	if err != nil {
		fmt.Fprintf(stderr, "inosync: %v\n", err)
		if errors.Is(err, control.ErrNoDaemon) {
			fmt.Fprintf(stderr, "inosync: hint: is inosync running with -c %s? (systemctl status inosync)\n", a.config)
			return status.ExitNoDaemon
		}
		return 1
	}
	if !resp.OK {
		fmt.Fprintf(stderr, "inosync: %s\n", resp.Error)
		return 1
	}
	if a.command != control.CmdStatus {
		fmt.Fprintf(stdout, "%s\n", resp.Message)
		return 0
	}
	if resp.Status == nil {
		fmt.Fprintln(stderr, "inosync: the daemon sent no status")
		return 1
	}
	if a.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(resp.Status)
	} else {
		err = resp.Status.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "inosync: %v\n", err)
		return 1
	}
	return resp.Status.ExitCode()
}

func clientUsage(cmd string) string {
	switch cmd {
	case control.CmdStatus:
		return " [--json]"
	case control.CmdResync:
		return " [SOURCE]"
	}
	return ""
}

// socketFor is the control socket of the daemon that runs config: its
// control_socket setting, else the path named after the file. A config
// that does not load (an edit not yet reloaded, or a source directory
// that is gone, which the daemon's status tells) falls back to the name;
// why it did not load is said only when no socket is there, since the
// call then fails.
func socketFor(file string, stderr io.Writer) string {
	cfg, err := config.Load(file, config.Options{})
	if err != nil {
		sock := control.SocketPath(file, plainSetting(file, "control_socket"))
		var ce *config.Error
		if _, serr := os.Stat(sock); serr != nil && (!errors.As(err, &ce) || ce.Line > 0) {
			fmt.Fprintf(stderr, "inosync: warning: %v (looking for the daemon's socket by the file's name)\n", err)
		}
		return sock
	}
	return control.SocketPath(file, cfg.ControlSocket)
}

// plainSetting finds `name = "value"` on a line of its own in file, for a
// config that does not load: the daemon still runs the last good one, and
// its control_socket is usually written so. "" when not found.
func plainSetting(file, name string) string {
	b, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s*=\s*["']([^"'\n]+)["']\s*(#.*)?$`)
	if m := re.FindAllSubmatch(b, -1); len(m) > 0 {
		return string(m[len(m)-1][1])
	}
	return ""
}
