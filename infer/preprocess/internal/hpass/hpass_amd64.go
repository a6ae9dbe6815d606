//go:build amd64 && !purego

package hpass

import "golang.org/x/sys/cpu"

// Available says whether Row can run here (AVX2).
var Available = cpu.X86.HasAVX2

//go:noescape
func rowAVX2(in *uint8, off, cnt, k *int32, ksize, n int, out *uint8)
