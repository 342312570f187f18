package main

import (
	"runtime/debug"
	"strings"
)

// Set at link time by the Makefile (-ldflags "-X main.version=… -X
// main.commit=… -X main.buildDate=…"), from git describe and the build's
// clock. They stay empty in a plain `go build`, and the build info that Go
// records stands in.
var (
	version   string
	commit    string
	buildDate string
)

// fallbackVersion is the version of a build that carries none: neither the
// Makefile's nor one from the module proxy (`go install …@vX.Y.Z`).
const fallbackVersion = "0.4.0"

// buildInfo says which inosync this is.
type buildInfo struct {
	Version string // bare X.Y.Z (or git describe's X.Y.Z-N-gHASH)
	Commit  string // may be empty
	Date    string // may be empty
}

// currentBuild reads the link-time values, then Go's build info (the module
// version of `go install`, the VCS revision and time of a build from a
// checkout), then the constant.
func currentBuild() buildInfo {
	b := buildInfo{Version: strings.TrimPrefix(version, "v"), Commit: commit, Date: buildDate}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = strings.TrimPrefix(bi.Main.Version, "v")
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && b.Commit == "":
				b.Commit = s.Value
			case s.Key == "vcs.time" && b.Date == "":
				b.Date = s.Value
			}
		}
	}
	if b.Version == "" {
		b.Version = fallbackVersion
	}
	if len(b.Commit) > 12 {
		b.Commit = b.Commit[:12]
	}
	return b
}

// String is what --version prints: "inosync X.Y.Z (commit date)", the
// parenthesis left out when nothing is known; the second word is always the
// bare version, for scripts.
func (b buildInfo) String() string {
	s := "inosync " + b.Version
	var extra []string
	for _, v := range []string{b.Commit, b.Date} {
		if v != "" {
			extra = append(extra, v)
		}
	}
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, " ") + ")"
	}
	return s
}
