package filelock

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestLockExcludesAndWaits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "LOCK")
	a, err := Lock(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	// A second open of the same file conflicts, even in this process.
	b, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if ok, err := b.TryLock(true); ok || err != nil {
		t.Fatalf("second exclusive TryLock = %v, %v; want false", ok, err)
	}
	if ok, err := b.TryLock(false); ok || err != nil {
		t.Fatalf("shared TryLock under an exclusive lock = %v, %v; want false", ok, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Millisecond)
	defer cancel()
	if _, err := Lock(ctx, path); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock while held = %v; want the deadline", err)
	}
	time.AfterFunc(100*time.Millisecond, func() { a.Close() })
	if err := b.Wait(context.Background()); err != nil {
		t.Fatalf("Wait after the holder closed: %v", err)
	}
	// Shared locks coexist.
	b.Unlock()
	c, _ := Open(path)
	defer c.Close()
	if ok, _ := b.TryLock(false); !ok {
		t.Fatal("shared lock refused")
	}
	if ok, _ := c.TryLock(false); !ok {
		t.Fatal("second shared lock refused")
	}
}
