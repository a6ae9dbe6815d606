package search

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// stopBound is how long a cancelled search may keep running. The checks
// sit between tiles (about 0.1 ms of work) and between graph searches (well
// under 1 ms), so this leaves room for a busy machine and -race.
const stopBound = 500 * time.Millisecond

// cancelWhileRunning runs f under a context cancelled once trigger is
// closed, and returns f's error and how long f ran on after the cancel.
// f must still be running at the cancel: an f that returns nil first
// fails the test (its work was too small to show anything).
func cancelWhileRunning(t *testing.T, trigger <-chan struct{}, f func(ctx context.Context) error) time.Duration {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	res := make(chan error, 1)
	go func() { res <- f(ctx) }()
	select {
	case <-trigger:
	case err := <-res:
		t.Fatalf("finished before the cancel (err %v): make the test's work larger", err)
	}
	start := time.Now()
	cancel()
	select {
	case err := <-res:
		took := time.Since(start)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("after the cancel: err %v, want context.Canceled", err)
		}
		t.Logf("stopped %v after the cancel", took)
		if took > stopBound {
			t.Fatalf("stopped %v after the cancel, want ≤ %v", took, stopBound)
		}
		return took
	case <-time.After(10 * time.Second):
		t.Fatal("still running 10 s after the cancel")
	}
	return 0
}

// after closes the returned channel after d.
func after(d time.Duration) <-chan struct{} {
	c := make(chan struct{})
	time.AfterFunc(d, func() { close(c) })
	return c
}

// TestPairsCancel: all-pairs over 40,000 × 256 random rows is 2·10¹¹
// multiply-adds (4.1 s on 2 cores, more under -race); cancelled 50 ms in,
// it returns context.Canceled at once. A context cancelled before the call
// returns before any work. (With a filter, Pairs first copies the allowed
// rows, one pass that does not check ctx: 0.2 s at 200,000 × 512.)
func TestPairsCancel(t *testing.T) {
	m := randMatrix(rand.New(rand.NewPCG(51, 52)), 40000, 256, 0)
	cancelWhileRunning(t, after(50*time.Millisecond), func(ctx context.Context) error {
		_, err := Pairs(ctx, m, 0.3, Options{})
		return err
	})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	start := time.Now()
	if ps, err := Pairs(ctx, m, 0.3, Options{}); !errors.Is(err, context.Canceled) || ps != nil {
		t.Fatalf("cancelled before the call: %d pairs, err %v", len(ps), err)
	}
	if took := time.Since(start); took > stopBound {
		t.Fatalf("cancelled before the call: returned after %v", took)
	}
}

// TestHNSWPairsCancel: one graph search per row with k = 300 over 6,000
// rows (1.4 s on 2 cores, more under -race); cancelled after a few hundred
// Allow calls (a few searches in, on any machine), it returns
// context.Canceled after the searches under way. Not cancelled, the
// result is the same as under a context that cannot be cancelled.
func TestHNSWPairsCancel(t *testing.T) {
	m := nearDupMatrix(rand.New(rand.NewPCG(53, 54)), 6000, 32, 0.05)
	ix := buildHNSW(t, m, HNSWOptions{M: 8, EfConstruction: 32})
	trigger := make(chan struct{})
	var calls atomic.Int64
	var once sync.Once
	allow := func(id int) bool {
		if calls.Add(1) == 500 {
			once.Do(func() { close(trigger) })
		}
		return true
	}
	cancelWhileRunning(t, trigger, func(ctx context.Context) error {
		_, err := ix.Pairs(ctx, m, 300, 0.3, Options{Allow: allow})
		return err
	})

	small := Matrix{Data: m.Data[:1500*m.Dim], Dim: m.Dim}
	six := buildHNSW(t, small, HNSWOptions{M: 8, EfConstruction: 32})
	want, err := six.Pairs(context.Background(), small, 64, 0.3, Options{Workers: 1})
	if err != nil || len(want) == 0 {
		t.Fatalf("not cancellable: %d pairs, err %v", len(want), err)
	}
	got, err := six.Pairs(t.Context(), small, 64, 0.3, Options{Allow: func(int) bool { return true }})
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("not cancelled: %d pairs, err %v; want %d pairs", len(got), err, len(want))
	}
}

// TestHNSWAddCancel: a build of 30,000 rows (seconds on 2 cores) cancelled
// 20 ms in returns context.Canceled after the insertions under way. An
// Add cancelled before it starts inserts nothing (beyond the first node,
// which seeds the graph), and adding the same rows again then builds the
// whole graph, every node reachable.
func TestHNSWAddCancel(t *testing.T) {
	big := randMatrix(rand.New(rand.NewPCG(55, 56)), 30000, 64, 0)
	cancelWhileRunning(t, after(20*time.Millisecond), func(ctx context.Context) error {
		_, err := BuildHNSW(ctx, big, HNSWOptions{M: 8, EfConstruction: 64})
		return err
	})

	m := randMatrix(rand.New(rand.NewPCG(57, 58)), 300, 8, 0)
	ids := make([]int, m.Len())
	for i := range ids {
		ids[i] = i
	}
	ix := NewHNSW(m.Dim, HNSWOptions{M: 4, EfConstruction: 16})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := ix.Add(ctx, m, ids); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Add: err %v", err)
	}
	if ix.Len() > 1 {
		t.Fatalf("cancelled Add inserted %d nodes", ix.Len())
	}
	if err := ix.Add(t.Context(), m, ids); err != nil {
		t.Fatal(err)
	}
	if ix.Len() != m.Len() {
		t.Fatalf("after adding again: %d nodes, want %d", ix.Len(), m.Len())
	}
	for j := range m.Len() {
		want := Exact(m, m.Row(j), 5, Options{})
		got := ix.Search(m, m.Row(j), 5, 400, Options{}) // ef > n: exhaustive when every node is reachable
		if !slices.EqualFunc(got, want, func(a, b Neighbor) bool { return a.Dist == b.Dist }) {
			t.Fatalf("row %d: exact %v, graph %v", j, want, got)
		}
	}
}

// TestHNSWOneWorkerDeterministic: with Workers = 1 the graph is the same
// on every build (byte for byte).
func TestHNSWOneWorkerDeterministic(t *testing.T) {
	m := randMatrix(rand.New(rand.NewPCG(59, 60)), 1500, 16, 0)
	var files [2]bytes.Buffer
	for i := range files {
		ix := buildHNSW(t, m, HNSWOptions{M: 8, EfConstruction: 32, Workers: 1})
		if _, err := ix.WriteTo(&files[i]); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(files[0].Bytes(), files[1].Bytes()) {
		t.Fatal("two builds with Workers = 1 differ")
	}
}
