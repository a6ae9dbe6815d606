package weaviatestore

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/embedsearch/embedsearch/store"
)

func TestParseLocation(t *testing.T) {
	t.Setenv(EnvAPIKey, "secret")
	l, err := ParseLocation("weaviates://db.example:443/images?tenant=alice&consistency=one&replication=3&grpc=db.example:50052")
	want := Location{Scheme: "https", Host: "db.example:443", GRPC: "db.example:50052", Class: "Images", Tenant: "alice",
		Consistency: One, Replication: 3, APIKey: "secret"}
	if err != nil || l != want {
		t.Fatalf("ParseLocation = %+v, %v; want %+v", l, err, want)
	}
	if s := l.String(); s != "weaviates://db.example:443/Images?tenant=alice" {
		t.Errorf("String = %q (must not hold the key)", s)
	}
	l, err = ParseLocation("weaviate://localhost:8080/Photos")
	if err != nil || l.Consistency != Quorum || l.GRPC != "localhost:50051" || l.Scheme != "http" || l.Tenant != "" {
		t.Errorf("defaults: %+v, %v", l, err)
	}
	for _, bad := range []string{
		"weaviate://localhost/Photos",      // no port
		"weaviate://localhost:8080/",       // no collection
		"weaviate://localhost:8080/9lives", // not a class name
		"weaviate://localhost:8080/A/B",    // not a class name
		"weaviate://localhost:8080/A?consistency=SOME",
		"weaviate://localhost:8080/A?replication=0",
		"weaviate://localhost:8080/A?tennant=x",
		"http://localhost:8080/A",
	} {
		if _, err := ParseLocation(bad); !errors.Is(err, ErrLocation) {
			t.Errorf("ParseLocation(%q) = %v; want ErrLocation", bad, err)
		}
	}
	if IsURL("/photos/store") || !IsURL("weaviate://h:1/C") || !IsURL("weaviates://h:1/C") {
		t.Error("IsURL")
	}
}

// TestIdentity: a library reached through a symbolic link, or a bind
// mount where this process may make one, has the object IDs it has at its
// own path; another file has another.
func TestIdentity(t *testing.T) {
	dir := t.TempDir()
	lib := filepath.Join(dir, "library")
	os.MkdirAll(filepath.Join(lib, "2024"), 0o755)
	img := filepath.Join(lib, "2024", "a.jpg")
	os.WriteFile(img, []byte("x"), 0o644)
	link := filepath.Join(dir, "mnt")
	if err := os.Symlink(lib, link); err != nil {
		t.Fatal(err)
	}
	if a, b := ObjectID(img), ObjectID(filepath.Join(link, "2024", "a.jpg")); a != b {
		t.Errorf("through a symlink: %s != %s", a, b)
	}
	if ObjectID(img) == ObjectID(filepath.Join(lib, "2024", "b.jpg")) {
		t.Error("two files, one ID")
	}
	// A file that is gone (a sweep deletes it) keeps its ID.
	if a, b := ObjectID(filepath.Join(lib, "gone.jpg")), ObjectID(filepath.Join(link, "gone.jpg")); a != b {
		t.Errorf("a vanished file through a symlink: %s != %s", a, b)
	}
	bind := filepath.Join(dir, "bind")
	os.Mkdir(bind, 0o755)
	unmount, err := bindMount(lib, bind)
	if err != nil {
		t.Logf("no bind mount here (%v): the bind mount case is not checked", err)
		return
	}
	defer unmount()
	if a, b := ObjectID(img), ObjectID(filepath.Join(bind, "2024", "a.jpg")); a != b {
		t.Errorf("through a bind mount: %s != %s (identity %q vs %q)", a, b, Identity(img), Identity(filepath.Join(bind, "2024", "a.jpg")))
	}
}

func TestUnescape(t *testing.T) {
	if got := unescape(`/mnt/my\040photos`); got != "/mnt/my photos" {
		t.Errorf("unescape = %q", got)
	}
}

// TestProperties: an entry survives the trip through object properties
// exactly (nanosecond times, signature bytes, GPS), with numbers as JSON
// decodes them.
func TestProperties(t *testing.T) {
	e := store.Entry{Path: "/photos/a b.jpg", Size: 123456789, ModTime: time.Unix(1700000000, 123456789), SHA256: "ab12",
		Width: 4000, Height: 3000, Format: "jpeg", Taken: time.Unix(1600000000, 5), Make: "A", Model: "Camera X",
		GPS: &store.GPS{Lat: 48.1, Lon: -2.5}, Signature: []byte{0, 1, 2, 255}}
	p := properties(e)
	back := map[string]interface{}{}
	for k, v := range p {
		switch x := v.(type) {
		case int64:
			back[k] = float64(x)
		default:
			back[k] = v
		}
	}
	got, err := entryOf(back)
	if err != nil {
		t.Fatal(err)
	}
	if !same(got, e) || !reflect.DeepEqual(got.GPS, e.GPS) || got.ModTime.UnixNano() != e.ModTime.UnixNano() {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, e)
	}
	e = store.Entry{Path: "/p.png", Size: 1}
	if got, err := entryOf(properties(e)); err != nil || !got.ModTime.IsZero() || got.GPS != nil || got.Signature != nil {
		t.Errorf("bare entry: %+v, %v", got, err)
	}
}
