package weaviatestore

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/weaviate/weaviate/entities/models"

	"github.com/embedsearch/embedsearch/store"
)

// bindingPrefix starts the class description that records the binding.
const bindingPrefix = "embedsearch store bound to "

// Object kinds: one image, one of the tenant's roots, or the tenant's meta
// object (last run, version); only images have a vector.
const (
	kindImage = "image"
	kindMeta  = "meta"
	kindRoot  = "root"
)

// metaID is the ID of each tenant's meta object.
var metaID = uuidOf("embedsearch meta")

// class is the Weaviate collection that holds a store bound to b.
func class(l Location, b store.Binding) (*models.Class, error) {
	desc, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	f, no := false, false
	text := func(name string, indexed bool) *models.Property {
		p := &models.Property{Name: name, DataType: []string{"text"}, Tokenization: "field"}
		if !indexed {
			p.IndexFilterable, p.IndexSearchable = &f, &no
		} else {
			p.IndexSearchable = &no // filters only: no BM25 index to keep
		}
		return p
	}
	typed := func(name, typ string) *models.Property {
		return &models.Property{Name: name, DataType: []string{typ}, IndexSearchable: nil}
	}
	c := &models.Class{
		Class:             l.Class,
		Description:       bindingPrefix + string(desc),
		Vectorizer:        "none",
		VectorIndexType:   "hnsw",
		VectorIndexConfig: map[string]interface{}{"distance": "l2-squared"},
		Properties: []*models.Property{
			text("kind", true), text("path", true), text("name", true), text("sha256", true),
			text("format", true), text("make", true), text("camera", true),
			text("mtime", false), text("taken", false), text("signature", false),
			typed("size", "int"), typed("width", "int"), typed("height", "int"),
			typed("lat", "number"), typed("lon", "number"), typed("gps", "boolean"),
			text("last_indexed", false), typed("failed", "int"), text("version", false),
		},
	}
	if l.Tenant != "" {
		c.MultiTenancyConfig = &models.MultiTenancyConfig{Enabled: true}
	}
	if l.Replication > 0 {
		c.ReplicationConfig = &models.ReplicationConfig{Factor: int64(l.Replication), AsyncEnabled: true}
	}
	return c, nil
}

// bindingOf reads the binding a class description records.
func bindingOf(c *models.Class) (store.Binding, error) {
	var b store.Binding
	js, ok := strings.CutPrefix(c.Description, bindingPrefix)
	if !ok {
		return b, fmt.Errorf("weaviate collection %s was not made by embedsearch (its description records no model binding)", c.Class)
	}
	if err := json.Unmarshal([]byte(js), &b); err != nil || b.ModelID == "" || b.Dim <= 0 {
		return b, fmt.Errorf("weaviate collection %s: unreadable model binding %q", c.Class, js)
	}
	return b, nil
}

// properties are e's catalogue fields as object properties.
func properties(e store.Entry) map[string]interface{} {
	p := map[string]interface{}{
		"kind": kindImage, "path": e.Path, "name": filepath.Base(e.Path), "sha256": e.SHA256,
		"format": e.Format, "make": e.Make, "camera": e.Model,
		"mtime": timeText(e.ModTime), "taken": timeText(e.Taken),
		"signature": base64.StdEncoding.EncodeToString(e.Signature),
		"size":      e.Size, "width": int64(e.Width), "height": int64(e.Height), "gps": e.GPS != nil,
	}
	if e.GPS != nil {
		p["lat"], p["lon"] = e.GPS.Lat, e.GPS.Lon
	}
	return p
}

// entryOf reads an entry back from an object's properties (as REST and
// GraphQL return them: numbers as float64 or json.Number).
func entryOf(p map[string]interface{}) (store.Entry, error) {
	e := store.Entry{
		Path: str(p["path"]), SHA256: str(p["sha256"]), Format: str(p["format"]),
		Make: str(p["make"]), Model: str(p["camera"]),
		Size: int64(num(p["size"])), Width: int(num(p["width"])), Height: int(num(p["height"])),
	}
	var err error
	if e.ModTime, err = textTime(str(p["mtime"])); err != nil {
		return e, fmt.Errorf("object %s: mtime: %w", e.Path, err)
	}
	if e.Taken, err = textTime(str(p["taken"])); err != nil {
		return e, fmt.Errorf("object %s: taken: %w", e.Path, err)
	}
	if sig := str(p["signature"]); sig != "" {
		if e.Signature, err = base64.StdEncoding.DecodeString(sig); err != nil {
			return e, fmt.Errorf("object %s: signature: %w", e.Path, err)
		}
	}
	if g, _ := p["gps"].(bool); g {
		e.GPS = &store.GPS{Lat: num(p["lat"]), Lon: num(p["lon"])}
	}
	if e.Path == "" {
		return e, fmt.Errorf("an object without a path")
	}
	return e, nil
}

// timeText keeps a time exactly (Weaviate's dates keep milliseconds, and
// JSON numbers lose nanoseconds): nanoseconds since 1970 as text.
func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.UnixNano(), 10)
}

func textTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(0, n), nil
}

func str(v interface{}) string {
	s, _ := v.(string)
	return s
}

func num(v interface{}) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case json.Number:
		f, _ := x.Float64()
		return f
	case int64:
		return float64(x)
	case int:
		return float64(x)
	}
	return 0
}
