//go:build !amd64 || purego

package search

const useAsm = false

func dotRowsAsm(q, rows *float32, stride, dim8, n int, out *float32) { panic("unreachable") }

func dotTile4x3Asm(rows *float32, rstride, nr4 int, qs *float32, qstride, dim8 int, out *float32, ostride int) {
	panic("unreachable")
}

func sumAsm(p *float32, n int) float32 { panic("unreachable") }

const useVNNI = false

func tileVNNI(panel, qs *byte, qstride, k4 int, neg, out *int32) bool { panic("unreachable") }

func dotGatherAsm(q, base *float32, stride int, ids *uint32, n, dim8 int, out *float32) {
	panic("unreachable")
}
