package search

// The kernels compute inner products. Every path (single query, batched
// tile, range, pairs) computes each inner product the same way on a given
// machine, so a pair of vectors always gets the same distance whichever
// function asked for it. On amd64 with AVX2+FMA the first dim&^7 elements
// go through one 8-lane accumulator per product in assembly and the rest
// is added by dotTail; elsewhere dotGeneric does it all.

// dotRows sets out[i] = ⟨q, row i⟩ for the len(out) rows at the start of rows.
func dotRows(q, rows []float32, dim int, out []float32) {
	if len(out) == 0 {
		return
	}
	_ = rows[len(out)*dim-1]
	if useAsm && dim >= 8 {
		dim8 := dim &^ 7
		dotRowsAsm(&q[0], &rows[0], dim, dim8, len(out), &out[0])
		if dim8 != dim {
			for i := range out {
				out[i] += dotTail(q[dim8:], rows[i*dim+dim8:(i+1)*dim])
			}
		}
		return
	}
	for i := range out {
		out[i] = dotGeneric(q, rows[i*dim:(i+1)*dim])
	}
}

// dotTile sets out[j*nr+i] = ⟨q_j, row i⟩ for nq queries packed in qs and
// nr rows; values equal dotRows bit for bit.
func dotTile(qs []float32, nq int, rows []float32, nr int, dim int, out []float32) {
	if nq == 0 || nr == 0 {
		return
	}
	_ = qs[nq*dim-1]
	_ = rows[nr*dim-1]
	_ = out[nq*nr-1]
	if !useAsm || dim < 8 {
		for j := range nq {
			dotRows(qs[j*dim:(j+1)*dim], rows, dim, out[j*nr:(j+1)*nr])
		}
		return
	}
	dim8 := dim &^ 7
	nr4 := nr / 4
	j := 0
	for ; j+3 <= nq; j += 3 {
		if nr4 > 0 {
			dotTile4x3Asm(&rows[0], dim, nr4, &qs[j*dim], dim, dim8, &out[j*nr], nr)
		}
		if r := nr4 * 4; r < nr {
			for jj := j; jj < j+3; jj++ {
				dotRowsAsm(&qs[jj*dim], &rows[r*dim], dim, dim8, nr-r, &out[jj*nr+r])
			}
		}
	}
	for ; j < nq; j++ {
		dotRowsAsm(&qs[j*dim], &rows[0], dim, dim8, nr, &out[j*nr])
	}
	if dim8 != dim {
		for j := range nq {
			q := qs[j*dim+dim8 : (j+1)*dim]
			o := out[j*nr : (j+1)*nr]
			for i := range o {
				o[i] += dotTail(q, rows[i*dim+dim8:(i+1)*dim])
			}
		}
	}
}

// dotTail is the scalar remainder of a product, in index order.
func dotTail(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// dotGeneric is the portable inner product: four independent sums so the
// loop is not bound by add latency.
func dotGeneric(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// Stream returns the sum of data, reading it once as fast as the machine
// allows (SIMD, split across workers goroutines like Exact; 0:
// GOMAXPROCS). Benchmarks use it as the memory-bandwidth yardstick that
// Exact is measured against.
func Stream(data []float32, workers int) float32 {
	parts := split(len(data), 1, workerCount(workers))
	sums := make([]float32, len(parts))
	run(len(parts)-1, func(w int) {
		sums[w] = sumSlice(data[parts[w]:parts[w+1]])
	})
	var s float32
	for _, v := range sums {
		s += v
	}
	return s
}

func sumSlice(a []float32) float32 {
	n32 := len(a) &^ 31
	var s float32
	if useAsm && n32 > 0 {
		s = sumAsm(&a[0], n32)
	} else {
		n32 = 0
	}
	var s0, s1, s2, s3 float32
	i := n32
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i]
		s1 += a[i+1]
		s2 += a[i+2]
		s3 += a[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i]
	}
	return s + (s0 + s1) + (s2 + s3)
}

// dotGather sets out[i] = ⟨q, row ids[i]⟩ (same values as dotRows).
func dotGather(q []float32, m Matrix, ids []uint32, out []float32) {
	dim := m.Dim
	if len(ids) == 0 {
		return
	}
	out = out[:len(ids)]
	if useAsm && dim >= 8 {
		n := uint64(m.Len())
		for _, id := range ids {
			if uint64(id) >= n {
				panic("search: row ID out of range")
			}
		}
		dim8 := dim &^ 7
		dotGatherAsm(&q[0], &m.Data[0], dim, &ids[0], len(ids), dim8, &out[0])
		if dim8 != dim {
			for i, id := range ids {
				out[i] += dotTail(q[dim8:], m.Data[int(id)*dim+dim8:(int(id)+1)*dim])
			}
		}
		return
	}
	for i, id := range ids {
		out[i] = dotGeneric(q, m.Data[int(id)*dim:(int(id)+1)*dim])
	}
}
