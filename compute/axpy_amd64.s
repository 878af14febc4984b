//go:build amd64 && !purego && !openblas

#include "textflag.h"

// func axpyAsm(alpha float64, x, y []float64)
//
// y[i] += alpha·x[i] for i < len(x) (len(y) == len(x)), the product and the
// sum each rounded (VMULPD then VADDPD, as gonum's Daxpy does with SSE2):
// 16 elements per iteration in four YMM registers, then one at a time.
TEXT ·axpyAsm(SB), NOSPLIT, $0-56
	VBROADCASTSD alpha+0(FP), Y0
	MOVQ x_base+8(FP), SI
	MOVQ x_len+16(FP), CX
	MOVQ y_base+32(FP), DI
	MOVQ CX, BX
	SHRQ $4, BX
	JZ   tail

loop16:
	VMULPD (SI), Y0, Y1
	VMULPD 32(SI), Y0, Y2
	VMULPD 64(SI), Y0, Y3
	VMULPD 96(SI), Y0, Y4
	VADDPD (DI), Y1, Y1
	VADDPD 32(DI), Y2, Y2
	VADDPD 64(DI), Y3, Y3
	VADDPD 96(DI), Y4, Y4
	VMOVUPD Y1, (DI)
	VMOVUPD Y2, 32(DI)
	VMOVUPD Y3, 64(DI)
	VMOVUPD Y4, 96(DI)
	ADDQ $128, SI
	ADDQ $128, DI
	DECQ BX
	JNZ  loop16

tail:
	ANDQ $15, CX
	JZ   done

loop1:
	VMULSD (SI), X0, X1
	VADDSD (DI), X1, X1
	VMOVSD X1, (DI)
	ADDQ $8, SI
	ADDQ $8, DI
	DECQ CX
	JNZ  loop1

done:
	VZEROUPPER
	RET
