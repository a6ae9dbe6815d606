//go:build amd64 && !purego

package search

import "golang.org/x/sys/cpu"

// useVNNI selects the int8 all-pairs prefilter (AVX-512 VNNI).
var useVNNI = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VNNI

//go:noescape
func tileVNNI(panel, qs *byte, qstride, k4 int, neg, out *int32) bool
