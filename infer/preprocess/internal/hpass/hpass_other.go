//go:build !amd64 || purego

package hpass

// Available says whether Row can run here (AVX2 on amd64).
const Available = false

func rowAVX2(in *uint8, off, cnt, k *int32, ksize, n int, out *uint8) {}
