package weaviatestore

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"
)

// namespace is the UUIDv5 namespace of embedsearch's object IDs.
var namespace = uuid.MustParse("6f1f5a52-5d0c-4c39-9a35-0b6a3b8e8a11")

// Identity is what names a file independently of where it is mounted:
// the source of the filesystem that holds it (a device, a network share,
// or for a filesystem without one its device number) and the file's path
// inside that filesystem, read from /proc/self/mountinfo after resolving
// symbolic links. The same library reached through a symbolic link or a
// bind mount, or the same share mounted at two paths, has one identity.
// Where mounts cannot be read, the resolved path is the identity.
func Identity(path string) string {
	real := resolve(path)
	m, ok := mountOf(real)
	if !ok {
		return real
	}
	rel, err := filepath.Rel(m.point, real)
	if err != nil {
		return real
	}
	return m.source + "\x00" + filepath.Join(m.root, rel)
}

// ObjectID is the Weaviate object ID of the file at path.
func ObjectID(path string) string {
	return uuidOf(Identity(path))
}

func uuidOf(s string) string { return uuid.NewSHA1(namespace, []byte(s)).String() }

// resolve resolves the symbolic links of path's folders (and of path
// itself when it exists).
func resolve(path string) string {
	if r, err := filepath.EvalSymlinks(path); err == nil {
		return r
	}
	if d, err := filepath.EvalSymlinks(filepath.Dir(path)); err == nil {
		return filepath.Join(d, filepath.Base(path))
	}
	return path
}

type mount struct{ point, root, source string }

// mountOf finds the mount that holds path: the longest mount point above
// it in /proc/self/mountinfo.
func mountOf(path string) (mount, bool) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return mount{}, false
	}
	defer f.Close()
	var best mount
	found := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		// id parent major:minor root point options... - fstype source superopts
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		a, b := strings.Fields(pre), strings.Fields(post)
		if !ok || len(a) < 5 || len(b) < 2 {
			continue
		}
		point := unescape(a[4])
		if !within(point, path) || (found && len(point) <= len(best.point)) {
			continue
		}
		src := unescape(b[1])
		if !strings.HasPrefix(src, "/") && !strings.Contains(src, ":") && !strings.HasPrefix(src, "//") {
			// tmpfs, overlay, ...: the source names no particular
			// filesystem; its device number does.
			src = b[0] + "@" + a[2]
		}
		best, found = mount{point: point, root: unescape(a[3]), source: src}, true
	}
	return best, found
}

func within(dir, path string) bool {
	return dir == "/" || path == dir || strings.HasPrefix(path, dir+"/")
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			n := 0
			ok := true
			for _, c := range s[i+1 : i+4] {
				if c < '0' || c > '7' {
					ok = false
					break
				}
				n = n*8 + int(c-'0')
			}
			if ok {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
