//go:build amd64 && !purego

#include "textflag.h"

// Lane selector for VPERMD: taps t and t+1 each to a pixel's four lanes.
DATA pairIdx<>+0(SB)/4, $0
DATA pairIdx<>+4(SB)/4, $0
DATA pairIdx<>+8(SB)/4, $0
DATA pairIdx<>+12(SB)/4, $0
DATA pairIdx<>+16(SB)/4, $1
DATA pairIdx<>+20(SB)/4, $1
DATA pairIdx<>+24(SB)/4, $1
DATA pairIdx<>+28(SB)/4, $1
GLOBL pairIdx<>(SB), RODATA|NOPTR, $32

// func rowAVX2(in *uint8, off, cnt, k *int32, ksize, n int, out *uint8)
TEXT ·rowAVX2(SB), NOSPLIT, $0-56
	MOVQ in+0(FP), SI
	MOVQ off+8(FP), R8
	MOVQ cnt+16(FP), R9
	MOVQ k+24(FP), R10
	MOVQ ksize+32(FP), R11
	SHLQ $2, R11 // bytes of coefficients per output
	MOVQ n+40(FP), DX
	MOVQ out+48(FP), DI
	VMOVDQU pairIdx<>(SB), Y7
	MOVL    $0x200000, AX // half = 1 << (precisionBits-1)
	VMOVD   AX, X6
	VPBROADCASTD X6, X6

pixel:
	TESTQ DX, DX
	JZ    done
	MOVLQSX (R8), AX
	LEAQ    (SI)(AX*1), BX // this output's first input pixel
	MOVLQSX (R9), CX       // its taps
	MOVQ    R10, R12       // its coefficients
	VPXOR   Y0, Y0, Y0

pair:
	CMPQ      CX, $2
	JLT       single
	VPMOVZXBD (BX), Y1     // two RGBA pixels, 8 int32
	VMOVQ     (R12), X2    // their two coefficients
	VPERMD    Y2, Y7, Y2   // k0 k0 k0 k0 k1 k1 k1 k1
	VPMULLD   Y2, Y1, Y1
	VPADDD    Y1, Y0, Y0
	ADDQ      $8, BX
	ADDQ      $8, R12
	SUBQ      $2, CX
	JMP       pair

single:
	TESTQ        CX, CX
	JZ           fold
	MOVL         (BX), AX
	VMOVD        AX, X1
	VPMOVZXBD    X1, X1        // one RGBA pixel, 4 int32
	VPBROADCASTD (R12), X2
	VPMULLD      X2, X1, X1
	VEXTRACTI128 $1, Y0, X3
	VPADDD       X1, X0, X0    // the low half (the upper is in X3)
	JMP          sum

fold:
	VEXTRACTI128 $1, Y0, X3

sum:
	VPADDD    X3, X0, X0
	VPADDD    X6, X0, X0 // + half
	VPSRAD    $22, X0, X0
	VPACKSSDW X0, X0, X0
	VPACKUSWB X0, X0, X0
	VMOVD     X0, AX
	MOVW      AX, (DI)
	SHRL      $16, AX
	MOVB      AX, 2(DI)

	ADDQ $3, DI
	ADDQ $4, R8
	ADDQ $4, R9
	ADDQ R11, R10
	DECQ DX
	JMP  pixel

done:
	VZEROUPPER
	RET
