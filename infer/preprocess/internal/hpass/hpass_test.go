package hpass

import (
	"math/rand/v2"
	"testing"
)

// reference is the scalar definition Row must match bit for bit.
func reference(in []uint8, off, cnt, k []int32, ksize int, out []uint8) {
	for x := range off {
		var s [3]int32
		for c := range s {
			s[c] = 1 << 21
			for t := range int(cnt[x]) {
				s[c] += int32(in[int(off[x])+4*t+c]) * k[x*ksize+t]
			}
			v := s[c] >> 22
			out[3*x+c] = uint8(min(max(v, 0), 255))
		}
	}
}

// TestRowMatchesReference: random rows, tap counts odd and even (0 to
// ksize), coefficients of both signs and sums that clip at 0 and at 255.
func TestRowMatchesReference(t *testing.T) {
	if !Available {
		t.Skip("no AVX2 on this machine: preprocess uses its Go loop")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 500 {
		ksize := 1 + r.IntN(60)
		n := 1 + r.IntN(40)
		w := ksize + r.IntN(200)
		in := make([]uint8, 4*w)
		for i := range in {
			in[i] = uint8(r.IntN(256))
		}
		off, cnt := make([]int32, n), make([]int32, n)
		k := make([]int32, n*ksize)
		for x := range n {
			cnt[x] = int32(r.IntN(ksize + 1))
			off[x] = int32(4 * r.IntN(w-int(cnt[x])+1))
			for t := range ksize {
				// Around 2^22/cnt each, some negative, some large enough to clip.
				k[x*ksize+t] = int32(r.IntN(1<<23)) - 1<<21
				if trial%7 == 0 {
					k[x*ksize+t] = -k[x*ksize+t]
				}
			}
		}
		got, want := make([]uint8, 3*n), make([]uint8, 3*n)
		plan, err := NewPlan(off, cnt, k, ksize)
		if err != nil {
			t.Fatal(err)
		}
		plan.Row(in, got)
		reference(in, off, cnt, k, ksize, want)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("trial %d (ksize %d, n %d): byte %d is %d, want %d", trial, ksize, n, i, got[i], want[i])
			}
		}
	}
}

func TestRowRefusesReadsOutside(t *testing.T) {
	if !Available {
		t.Skip("no AVX2 on this machine")
	}
	// Taps beyond an output's share of the coefficients: refused at once.
	if _, err := NewPlan([]int32{0}, []int32{4}, []int32{1, 1, 1}, 3); err == nil {
		t.Error("NewPlan accepted 4 taps with ksize 3")
	}
	// A row shorter than the plan reads: Row panics instead of reading past it.
	plan, err := NewPlan([]int32{4}, []int32{3}, []int32{1, 1, 1}, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for an output reading past its row")
		}
	}()
	plan.Row(make([]uint8, 4*3), make([]uint8, 3))
}
