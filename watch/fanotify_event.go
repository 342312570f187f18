package watch

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// fanEvent is one event read from a fanotify group that reports
// directory handles and names (FAN_REPORT_DFID_NAME): what happened
// (mask, several bits when the kernel merged events of one name) and the
// names it happened to, each as its directory's handle and an entry name.
// A rename has two: the old name (recOld) and the new (recNew).
type fanEvent struct {
	mask uint64
	recs []fanRecord
}

// fanRecord is one name of an event: the directory's handle, as a key
// (fsid, handle type and bytes) for the resolver's cache, and the entry's
// name in it ("." for the directory itself).
type fanRecord struct {
	kind  uint8 // unix.FAN_EVENT_INFO_TYPE_*
	fsid  [8]byte
	key   string // fsid, handle type and handle bytes
	htype int32
	hdl   []byte
	name  string
}

// The kinds of records parseFanEvents keeps.
const (
	recName = unix.FAN_EVENT_INFO_TYPE_DFID_NAME
	recDir  = unix.FAN_EVENT_INFO_TYPE_DFID
	recOld  = unix.FAN_EVENT_INFO_TYPE_OLD_DFID_NAME
	recNew  = unix.FAN_EVENT_INFO_TYPE_NEW_DFID_NAME
)

// fanMetadataLen is sizeof(struct fanotify_event_metadata); version 3 is
// the only layout there has been since Linux 2.6.37.
const (
	fanMetadataLen = 24
	fanVersion     = 3
)

// parseFanEvents appends the events in buf, as read(2) returned them from
// a fanotify group, to evs. Records of kinds other than directory handles
// with names are skipped. An event's fd, which a group reporting handles
// never has, is closed should one come.
func parseFanEvents(buf []byte, evs []fanEvent) ([]fanEvent, error) {
	for len(buf) > 0 {
		if len(buf) < fanMetadataLen {
			return evs, fmt.Errorf("fanotify: %d bytes left, less than an event", len(buf))
		}
		evLen := int(binary.NativeEndian.Uint32(buf[0:4]))
		metaLen := int(binary.NativeEndian.Uint16(buf[6:8]))
		if buf[4] != fanVersion {
			return evs, fmt.Errorf("fanotify: event version %d, want %d", buf[4], fanVersion)
		}
		if evLen < fanMetadataLen || evLen > len(buf) || metaLen < fanMetadataLen || metaLen > evLen {
			return evs, fmt.Errorf("fanotify: event of %d bytes (metadata %d) in %d bytes", evLen, metaLen, len(buf))
		}
		ev := fanEvent{mask: binary.NativeEndian.Uint64(buf[8:16])}
		if fd := int32(binary.NativeEndian.Uint32(buf[16:20])); fd >= 0 {
			unix.Close(int(fd))
		}
		for info := buf[metaLen:evLen]; len(info) > 0; {
			rec, n, err := parseFanRecord(info)
			if err != nil {
				return evs, err
			}
			if rec.kind != 0 {
				ev.recs = append(ev.recs, rec)
			}
			info = info[n:]
		}
		evs = append(evs, ev)
		buf = buf[evLen:]
	}
	return evs, nil
}

// parseFanRecord parses the info record at the start of info and returns
// it with its length; kind is 0 for a record of a kind it skips.
func parseFanRecord(info []byte) (fanRecord, int, error) {
	if len(info) < 4 {
		return fanRecord{}, 0, errors.New("fanotify: truncated info record")
	}
	kind, n := info[0], int(binary.NativeEndian.Uint16(info[2:4]))
	if n < 4 || n > len(info) {
		return fanRecord{}, 0, fmt.Errorf("fanotify: info record of %d bytes in %d", n, len(info))
	}
	switch kind {
	case recName, recDir, recOld, recNew:
	default:
		return fanRecord{}, n, nil
	}
	// fsid (8 bytes), then struct file_handle: handle_bytes, handle_type,
	// the handle; then, for the kinds with a name, the name and a NUL.
	body := info[4:n]
	if len(body) < 16 {
		return fanRecord{}, 0, errors.New("fanotify: truncated file handle")
	}
	hb := int(binary.NativeEndian.Uint32(body[8:12]))
	if 16+hb > len(body) {
		return fanRecord{}, 0, fmt.Errorf("fanotify: handle of %d bytes in a record of %d", hb, n)
	}
	rec := fanRecord{kind: kind, htype: int32(binary.NativeEndian.Uint32(body[12:16]))}
	copy(rec.fsid[:], body[:8])
	rec.key = string(body[:16+hb]) // fsid, handle_bytes, handle_type, handle
	rec.hdl = []byte(rec.key[16:])
	if kind != recDir {
		name := body[16+hb:]
		for i, c := range name {
			if c == 0 {
				name = name[:i]
				break
			}
		}
		rec.name = string(name)
	}
	return rec, n, nil
}
