package main

import (
	"fmt"
	"os"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
	"github.com/rs/zerolog"
)

// statusNoticeInterval bounds how often STATUS= is sent to systemd while
// the status keeps changing.
const statusNoticeInterval = time.Second

// systemdEnv is what systemd told the daemon through its environment:
// where to send notifications (NOTIFY_SOCKET, Type=notify) and how often
// it expects a watchdog ping (WATCHDOG_USEC, WatchdogSec=).
type systemdEnv struct {
	notify   bool
	watchdog time.Duration // WatchdogSec; 0 when no watchdog is set
}

// readSystemdEnv reads the environment systemd gives a Type=notify
// service.
func readSystemdEnv() (systemdEnv, error) {
	env := systemdEnv{notify: os.Getenv("NOTIFY_SOCKET") != ""}
	if !env.notify {
		return env, nil
	}
	d, err := sd.SdWatchdogEnabled(false)
	if err != nil {
		return env, fmt.Errorf("WATCHDOG_USEC: %w", err)
	}
	env.watchdog = d
	return env, nil
}

// systemdNotifier tells systemd how the daemon is doing: READY=1 once
// every tree is watched, STATUS= with the status summary when it changes
// (at most once a second), RELOADING=1 around a reload, STOPPING=1 at
// stop, and WATCHDOG=1 pings. Only the supervisor's goroutine uses it. A
// nil notifier (not under systemd) does nothing and arms no timer.
type systemdNotifier struct {
	lg         zerolog.Logger
	status     rateLimit
	lastStatus string
	ping       *time.Ticker // nil without a watchdog
	warned     bool         // a failed send was logged
}

// newSystemdNotifier returns nil when the daemon does not run under
// systemd's notify protocol.
func newSystemdNotifier(env systemdEnv, lg zerolog.Logger) *systemdNotifier {
	if !env.notify {
		return nil
	}
	n := &systemdNotifier{lg: lg, status: rateLimit{interval: statusNoticeInterval}}
	if env.watchdog > 0 {
		// A quarter of WatchdogSec: systemd asks for half, and a busy
		// machine gets the other quarter as slack.
		n.ping = time.NewTicker(env.watchdog / 4)
		lg.Info().Dur("watchdog", env.watchdog).Msg("systemd watchdog: pinging every quarter of WatchdogSec")
	}
	return n
}

// send writes one notification; a failure is logged once.
func (n *systemdNotifier) send(state string) {
	if _, err := sd.SdNotify(false, state); err != nil && !n.warned {
		n.warned = true
		n.lg.Warn().Err(err).Msg("cannot notify systemd (NOTIFY_SOCKET)")
	}
}

// ready says that every tree is watched, with the status summary.
func (n *systemdNotifier) ready(summary string) {
	if n == nil {
		return
	}
	n.lastStatus = summary
	n.send(sd.SdNotifyReady + "\nSTATUS=" + summary)
}

// reloading says that a reload begins; ready ends it.
func (n *systemdNotifier) reloading() {
	if n == nil {
		return
	}
	n.send(sd.SdNotifyReloading + "\n" + sd.SdNotifyMonotonicUsec())
}

// stopping says that the final flush begins.
func (n *systemdNotifier) stopping(summary string) {
	if n == nil {
		return
	}
	n.lastStatus = summary
	n.send(sd.SdNotifyStopping + "\nSTATUS=" + summary)
}

// changed notes that the status may have changed.
func (n *systemdNotifier) changed() {
	if n != nil {
		n.status.mark()
	}
}

// statusDue delivers when a STATUS= may be sent; nil when none is due.
func (n *systemdNotifier) statusDue() <-chan time.Time {
	if n == nil {
		return nil
	}
	return n.status.due()
}

// sendStatus sends the summary if it differs from the last one sent.
func (n *systemdNotifier) sendStatus(summary string) {
	if !n.status.take() || summary == n.lastStatus {
		return
	}
	n.lastStatus = summary
	n.send("STATUS=" + summary)
}

// pingDue delivers when a watchdog ping is due; nil without a watchdog.
func (n *systemdNotifier) pingDue() <-chan time.Time {
	if n == nil || n.ping == nil {
		return nil
	}
	return n.ping.C
}

// alive sends WATCHDOG=1.
func (n *systemdNotifier) alive() { n.send(sd.SdNotifyWatchdog) }

// stop ends the timers.
func (n *systemdNotifier) stop() {
	if n == nil {
		return
	}
	n.status.stop()
	if n.ping != nil {
		n.ping.Stop()
	}
}
