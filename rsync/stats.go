package rsync

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/rs/zerolog"
)

// statsOption makes a full rescan report what it transferred (its
// "Number of …" lines), so that its log line says what a full sync
// repaired. The initial sync keeps 0.2.3's command line, without it.
const statsOption = "--stats"

// transferStats is what rsync --stats reports.
type transferStats struct {
	files, deleted, bytes, sent int64
}

var statsLine = regexp.MustCompile(`(?m)^(Number of regular files transferred|Number of deleted files|Total transferred file size|Total bytes sent): ([0-9,.]+)`)

// parseStats reads rsync's --stats lines from its output; ok is false
// when there are none.
func parseStats(out string) (s transferStats, ok bool) {
	for _, m := range statsLine.FindAllStringSubmatch(out, -1) {
		n, err := strconv.ParseInt(strings.NewReplacer(",", "", ".", "").Replace(m[2]), 10, 64)
		if err != nil {
			continue
		}
		ok = true
		switch m[1] {
		case "Number of regular files transferred":
			s.files = n
		case "Number of deleted files":
			s.deleted = n
		case "Total bytes sent":
			s.sent = n
		default:
			s.bytes = n
		}
	}
	return s, ok
}

// addStats adds a full run's transfer to its log line.
func addStats(e *zerolog.Event, output string) *zerolog.Event {
	s, ok := parseStats(output)
	if !ok {
		return e
	}
	return e.Int64("transferred", s.files).Int64("deleted", s.deleted).Int64("bytes", s.bytes).Int64("sent", s.sent)
}
