package models

import (
	"encoding/json"
	"testing"
)

// FuzzParseManifest: any bytes as a manifest give a manifest that passes
// its own validation or an error, never a panic; an accepted manifest
// survives a round trip through JSON.
func FuzzParseManifest(f *testing.F) {
	if b, err := Builtin(); err == nil {
		data, _ := json.Marshal(b.Manifest)
		f.Add(data)
	}
	for _, name := range ZooNames() {
		if e, ok := LookupZoo(name); ok {
			data, _ := json.Marshal(e.Manifest)
			f.Add(data)
		}
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"id":"x","dim":-1}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("ParseManifest accepted what Validate refuses: %v", err)
		}
		again, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseManifest(again); err != nil {
			t.Fatalf("an accepted manifest does not parse again: %v\n%s", err, again)
		}
	})
}
