package models

import (
	"errors"
	"testing"
)

// TestOtherBuiltins: each other built-in model the binary carries
// opens by its id (the id a store records) with its own weights, and is not
// the current built-in model; an id of a built-in model it does not carry
// is still retired.
func TestOtherBuiltins(t *testing.T) {
	cur, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	ids := OtherBuiltins()
	if len(ids) == 0 {
		t.Fatal("no other built-in model is carried (models/builtins/)")
	}
	for _, id := range ids {
		if id == cur.Manifest.ID {
			t.Errorf("%s is the current built-in model's id too", id)
		}
		m, err := OpenID(id)
		if err != nil {
			t.Fatalf("OpenID(%s): %v", id, err)
		}
		if m.Manifest.ID != id || m.Digest() == cur.Digest() || m.Dir != "" {
			t.Errorf("OpenID(%s): id %s digest %s dir %q; current digest %s", id, m.Manifest.ID, m.Digest(), m.Dir, cur.Digest())
		}
		if name, ok := NameForID(id); !ok || name != id {
			t.Errorf("NameForID(%s) = %q, %v", id, name, ok)
		}
		if err := RetiredBuiltin(id); err != nil {
			t.Errorf("RetiredBuiltin(%s): %v", id, err)
		}
		if byName, err := Open(id); err != nil || byName.Digest() != m.Digest() {
			t.Errorf("Open(%s): %v", id, err)
		}
	}
	if err := RetiredBuiltin("builtin-v0"); !errors.Is(err, ErrRetiredBuiltin) {
		t.Errorf("RetiredBuiltin(builtin-v0) = %v, want ErrRetiredBuiltin", err)
	}
}
