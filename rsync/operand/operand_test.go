package operand

import "testing"

// Root reads a trailing slash and "dir/." as rsync does.
func TestRoot(t *testing.T) {
	for _, c := range []struct{ source, base, prefix string }{
		{"/srv/www/", "/srv/www/", ""},
		{"/srv/www", "/srv/", "www/"},
		{"/srv/www/.", "/srv/www/./", ""},
		{".", "./", ""},
		{"/www", "/", "www/"},
		{"rel/dir", "rel/", "dir/"},
	} {
		if base, prefix := Root(c.source); base != c.base || prefix != c.prefix {
			t.Errorf("Root(%q) = %q, %q; want %q, %q", c.source, base, prefix, c.base, c.prefix)
		}
	}
}

// Local tells a path on this machine from host:path, host::module and
// rsync:// URLs, as rsync reads a colon.
func TestLocal(t *testing.T) {
	for dest, want := range map[string]bool{
		"/var/www/":            true,
		"relative/dir":         true,
		"./a:b":                true,
		"/mnt/a:b":             true,
		":x":                   true,
		"web1:/var/www/":       false,
		"user@web1:":           false,
		"web1::module/path":    false,
		"rsync://web1/module/": false,
		"[fe80::1]:/x":         false,
	} {
		if got := Local(dest); got != want {
			t.Errorf("Local(%q) = %v, want %v", dest, got, want)
		}
	}
}
