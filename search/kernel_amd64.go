//go:build amd64 && !purego

package search

import "golang.org/x/sys/cpu"

// useAsm selects the AVX2+FMA kernels in kernel_amd64.s.
var useAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// dotRowsAsm: out[i] = Σ_{t<dim8} q[t]·rows[i*stride+t] for i < n.
//
//go:noescape
func dotRowsAsm(q, rows *float32, stride, dim8, n int, out *float32)

// dotTile4x3Asm: for g < nr4 groups of 4 rows and 3 queries,
// out[j*ostride + 4g+r] = Σ_{t<dim8} qs[j*qstride+t]·rows[(4g+r)*rstride+t].
//
//go:noescape
func dotTile4x3Asm(rows *float32, rstride, nr4 int, qs *float32, qstride, dim8 int, out *float32, ostride int)

// sumAsm sums n floats, n a multiple of 32.
//
//go:noescape
func sumAsm(p *float32, n int) float32

// dotGatherAsm: out[i] = Σ_{t<dim8} q[t]·base[ids[i]*stride+t] for i < n.
//
//go:noescape
func dotGatherAsm(q, base *float32, stride int, ids *uint32, n, dim8 int, out *float32)
