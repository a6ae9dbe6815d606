//go:build amd64 && !purego

#include "textflag.h"

// func tileVNNI(panel *byte, qs *byte, qstride, k4 int, neg *int32, out *int32) bool
//
// One 8×32 tile of int8 inner products for all-pairs: 8 query rows (signed
// bytes, row-major, qstride apart) against a panel of 32 rows stored as
// unsigned bytes interleaved by 4 (for each group of 4 dimensions, the 4
// bytes of row 0, of row 1, … of row 31). Accumulator lanes start at
// neg[j] (minus query j's threshold); the tile is written to out (8 rows of
// 32 int32) and true returned only when some lane ended ≥ 0.
TEXT ·tileVNNI(SB), NOSPLIT, $0-49
	MOVQ panel+0(FP), SI
	MOVQ qs+8(FP), DI
	MOVQ qstride+16(FP), R8
	MOVQ k4+24(FP), CX
	MOVQ neg+32(FP), DX
	MOVQ out+40(FP), BX
	LEAQ (R8)(R8*2), R9
	LEAQ (DI)(R8*4), R10

	VPBROADCASTD 0(DX), Z0
	VMOVDQA32    Z0, Z1
	VPBROADCASTD 4(DX), Z2
	VMOVDQA32    Z2, Z3
	VPBROADCASTD 8(DX), Z4
	VMOVDQA32    Z4, Z5
	VPBROADCASTD 12(DX), Z6
	VMOVDQA32    Z6, Z7
	VPBROADCASTD 16(DX), Z8
	VMOVDQA32    Z8, Z9
	VPBROADCASTD 20(DX), Z10
	VMOVDQA32    Z10, Z11
	VPBROADCASTD 24(DX), Z12
	VMOVDQA32    Z12, Z13
	VPBROADCASTD 28(DX), Z14
	VMOVDQA32    Z14, Z15

loop:
	VMOVDQU32    (SI), Z16
	VMOVDQU32    64(SI), Z17
	VPBROADCASTD (DI), Z18
	VPBROADCASTD (DI)(R8*1), Z19
	VPBROADCASTD (DI)(R8*2), Z20
	VPBROADCASTD (DI)(R9*1), Z21
	VPBROADCASTD (R10), Z22
	VPBROADCASTD (R10)(R8*1), Z23
	VPBROADCASTD (R10)(R8*2), Z24
	VPBROADCASTD (R10)(R9*1), Z25
	VPDPBUSD     Z18, Z16, Z0
	VPDPBUSD     Z18, Z17, Z1
	VPDPBUSD     Z19, Z16, Z2
	VPDPBUSD     Z19, Z17, Z3
	VPDPBUSD     Z20, Z16, Z4
	VPDPBUSD     Z20, Z17, Z5
	VPDPBUSD     Z21, Z16, Z6
	VPDPBUSD     Z21, Z17, Z7
	VPDPBUSD     Z22, Z16, Z8
	VPDPBUSD     Z22, Z17, Z9
	VPDPBUSD     Z23, Z16, Z10
	VPDPBUSD     Z23, Z17, Z11
	VPDPBUSD     Z24, Z16, Z12
	VPDPBUSD     Z24, Z17, Z13
	VPDPBUSD     Z25, Z16, Z14
	VPDPBUSD     Z25, Z17, Z15
	ADDQ         $128, SI
	ADDQ         $4, DI
	ADDQ         $4, R10
	DECQ         CX
	JNZ          loop

	// A lane is a hit when its sign bit is clear in any accumulator, i.e.
	// when the AND of all sixteen has a clear sign bit there.
	VPANDD    Z0, Z1, Z26
	VPANDD    Z2, Z3, Z27
	VPANDD    Z4, Z5, Z28
	VPANDD    Z6, Z7, Z29
	VPANDD    Z26, Z27, Z26
	VPANDD    Z28, Z29, Z28
	VPANDD    Z26, Z28, Z26
	VPANDD    Z8, Z9, Z27
	VPANDD    Z10, Z11, Z28
	VPANDD    Z12, Z13, Z29
	VPANDD    Z14, Z15, Z30
	VPANDD    Z27, Z28, Z27
	VPANDD    Z29, Z30, Z29
	VPANDD    Z27, Z29, Z27
	VPANDD    Z26, Z27, Z26
	VPMOVD2M  Z26, K1
	KMOVW     K1, AX
	CMPW      AX, $0xffff
	JEQ       miss

	VMOVDQU32 Z0, 0(BX)
	VMOVDQU32 Z1, 64(BX)
	VMOVDQU32 Z2, 128(BX)
	VMOVDQU32 Z3, 192(BX)
	VMOVDQU32 Z4, 256(BX)
	VMOVDQU32 Z5, 320(BX)
	VMOVDQU32 Z6, 384(BX)
	VMOVDQU32 Z7, 448(BX)
	VMOVDQU32 Z8, 512(BX)
	VMOVDQU32 Z9, 576(BX)
	VMOVDQU32 Z10, 640(BX)
	VMOVDQU32 Z11, 704(BX)
	VMOVDQU32 Z12, 768(BX)
	VMOVDQU32 Z13, 832(BX)
	VMOVDQU32 Z14, 896(BX)
	VMOVDQU32 Z15, 960(BX)
	VZEROUPPER
	MOVB      $1, ret+48(FP)
	RET

miss:
	VZEROUPPER
	MOVB $0, ret+48(FP)
	RET
