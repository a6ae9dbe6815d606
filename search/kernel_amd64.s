//go:build amd64 && !purego

#include "textflag.h"

// HSUM reduces the 8 lanes of Y to the low lane of X (X is Y's low half),
// always in the same order: (l0+l4)+(l2+l6) + (l1+l5)+(l3+l7).
#define HSUM(Y, X, T) \
	VEXTRACTF128 $1, Y, T \
	VADDPS       T, X, X  \
	VMOVHLPS     X, X, T  \
	VADDPS       T, X, X  \
	VMOVSHDUP    X, T     \
	VADDSS       T, X, X

// func dotRowsAsm(q, rows *float32, stride, dim8, n int, out *float32)
TEXT ·dotRowsAsm(SB), NOSPLIT, $0-48
	MOVQ q+0(FP), DI
	MOVQ rows+8(FP), SI
	MOVQ stride+16(FP), R8
	MOVQ dim8+24(FP), CX
	MOVQ n+32(FP), DX
	MOVQ out+40(FP), BX
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R9
	SHLQ $2, CX

rows4:
	CMPQ DX, $4
	JLT  rows1
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ SI, R10
	LEAQ (SI)(R8*4), R11
	XORQ AX, AX

loop4:
	// Fetch the next four rows while these are summed: the rows are four
	// separate streams, more than the hardware prefetcher follows at speed.
	PREFETCHT0  (R11)
	PREFETCHT0  (R11)(R8*1)
	PREFETCHT0  (R11)(R8*2)
	PREFETCHT0  (R11)(R9*1)
	VMOVUPS     (DI)(AX*1), Y4
	VFMADD231PS (R10), Y4, Y0
	VFMADD231PS (R10)(R8*1), Y4, Y1
	VFMADD231PS (R10)(R8*2), Y4, Y2
	VFMADD231PS (R10)(R9*1), Y4, Y3
	ADDQ        $32, R10
	ADDQ        $32, R11
	ADDQ        $32, AX
	CMPQ        AX, CX
	JLT         loop4

	HSUM(Y0, X0, X4)
	HSUM(Y1, X1, X5)
	HSUM(Y2, X2, X6)
	HSUM(Y3, X3, X7)
	VMOVSS X0, (BX)
	VMOVSS X1, 4(BX)
	VMOVSS X2, 8(BX)
	VMOVSS X3, 12(BX)
	LEAQ   (SI)(R8*4), SI
	ADDQ   $16, BX
	SUBQ   $4, DX
	JMP    rows4

rows1:
	TESTQ DX, DX
	JEQ   done
	VXORPS Y0, Y0, Y0
	XORQ AX, AX

loop1:
	VMOVUPS     (DI)(AX*1), Y4
	VFMADD231PS (SI)(AX*1), Y4, Y0
	ADDQ        $32, AX
	CMPQ        AX, CX
	JLT         loop1

	HSUM(Y0, X0, X4)
	VMOVSS X0, (BX)
	ADDQ   R8, SI
	ADDQ   $4, BX
	DECQ   DX
	JMP    rows1

done:
	VZEROUPPER
	RET

// func dotTile4x3Asm(rows *float32, rstride, nr4 int, qs *float32, qstride, dim8 int, out *float32, ostride int)
TEXT ·dotTile4x3Asm(SB), NOSPLIT, $0-64
	MOVQ rows+0(FP), SI
	MOVQ rstride+8(FP), R8
	MOVQ nr4+16(FP), DX
	MOVQ qs+24(FP), DI
	MOVQ qstride+32(FP), R10
	MOVQ dim8+40(FP), CX
	MOVQ out+48(FP), BX
	MOVQ ostride+56(FP), R13
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R9
	SHLQ $2, R10
	SHLQ $2, CX
	SHLQ $2, R13

group:
	TESTQ DX, DX
	JEQ   tdone
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	MOVQ SI, R11
	MOVQ DI, R12
	XORQ AX, AX

tloop:
	VMOVUPS     (R12), Y12
	VMOVUPS     (R12)(R10*1), Y13
	VMOVUPS     (R12)(R10*2), Y14
	VMOVUPS     (R11), Y15
	VFMADD231PS Y15, Y12, Y0
	VFMADD231PS Y15, Y13, Y1
	VFMADD231PS Y15, Y14, Y2
	VMOVUPS     (R11)(R8*1), Y15
	VFMADD231PS Y15, Y12, Y3
	VFMADD231PS Y15, Y13, Y4
	VFMADD231PS Y15, Y14, Y5
	VMOVUPS     (R11)(R8*2), Y15
	VFMADD231PS Y15, Y12, Y6
	VFMADD231PS Y15, Y13, Y7
	VFMADD231PS Y15, Y14, Y8
	VMOVUPS     (R11)(R9*1), Y15
	VFMADD231PS Y15, Y12, Y9
	VFMADD231PS Y15, Y13, Y10
	VFMADD231PS Y15, Y14, Y11
	ADDQ        $32, R11
	ADDQ        $32, R12
	ADDQ        $32, AX
	CMPQ        AX, CX
	JLT         tloop

	// Y(3r+j) holds row r against query j.
	HSUM(Y0, X0, X12)
	HSUM(Y1, X1, X13)
	HSUM(Y2, X2, X14)
	HSUM(Y3, X3, X15)
	HSUM(Y4, X4, X12)
	HSUM(Y5, X5, X13)
	HSUM(Y6, X6, X14)
	HSUM(Y7, X7, X15)
	HSUM(Y8, X8, X12)
	HSUM(Y9, X9, X13)
	HSUM(Y10, X10, X14)
	HSUM(Y11, X11, X15)
	VMOVSS X0, (BX)
	VMOVSS X1, (BX)(R13*1)
	VMOVSS X2, (BX)(R13*2)
	VMOVSS X3, 4(BX)
	VMOVSS X4, 4(BX)(R13*1)
	VMOVSS X5, 4(BX)(R13*2)
	VMOVSS X6, 8(BX)
	VMOVSS X7, 8(BX)(R13*1)
	VMOVSS X8, 8(BX)(R13*2)
	VMOVSS X9, 12(BX)
	VMOVSS X10, 12(BX)(R13*1)
	VMOVSS X11, 12(BX)(R13*2)
	LEAQ   (SI)(R8*4), SI
	ADDQ   $16, BX
	DECQ   DX
	JMP    group

tdone:
	VZEROUPPER
	RET

// func sumAsm(p *float32, n int) float32
TEXT ·sumAsm(SB), NOSPLIT, $0-20
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	SHLQ $2, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ AX, AX

sloop:
	VADDPS (SI)(AX*1), Y0, Y0
	VADDPS 32(SI)(AX*1), Y1, Y1
	VADDPS 64(SI)(AX*1), Y2, Y2
	VADDPS 96(SI)(AX*1), Y3, Y3
	ADDQ   $128, AX
	CMPQ   AX, CX
	JLT    sloop

	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	HSUM(Y0, X0, X4)
	VMOVSS X0, ret+16(FP)
	VZEROUPPER
	RET

// func dotGatherAsm(q, base *float32, stride int, ids *uint32, n, dim8 int, out *float32)
//
// out[i] = Σ_{t<dim8} q[t]·base[ids[i]*stride+t], one accumulator per row
// exactly like dotRowsAsm's single-row path, while prefetching the next
// row (graph search visits rows scattered over memory).
TEXT ·dotGatherAsm(SB), NOSPLIT, $0-56
	MOVQ q+0(FP), DI
	MOVQ base+8(FP), SI
	MOVQ stride+16(FP), R8
	MOVQ ids+24(FP), R9
	MOVQ n+32(FP), DX
	MOVQ dim8+40(FP), CX
	MOVQ out+48(FP), BX
	SHLQ $2, R8
	SHLQ $2, CX

gloop:
	TESTQ DX, DX
	JEQ   gdone
	MOVL  (R9), AX
	IMULQ R8, AX
	LEAQ  (SI)(AX*1), R10
	MOVQ  R10, R11
	CMPQ  DX, $1
	JEQ   gfirst
	MOVL  4(R9), AX
	IMULQ R8, AX
	LEAQ  (SI)(AX*1), R11

gfirst:
	VXORPS Y0, Y0, Y0
	XORQ   AX, AX

ginner:
	PREFETCHT0  (R11)(AX*1)
	VMOVUPS     (DI)(AX*1), Y4
	VFMADD231PS (R10)(AX*1), Y4, Y0
	ADDQ        $32, AX
	CMPQ        AX, CX
	JLT         ginner

	HSUM(Y0, X0, X4)
	VMOVSS X0, (BX)
	ADDQ   $4, BX
	ADDQ   $4, R9
	DECQ   DX
	JMP    gloop

gdone:
	VZEROUPPER
	RET
