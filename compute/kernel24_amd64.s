//go:build amd64 && !openblas && !purego

#include "textflag.h"

// The two 24×8 micro-kernels of the transposed tiles. Registers: Z0–Z23
// accumulate the 24 rows of T (one ZMM register of 8 values per row), Z24
// holds the 8 values of a row of B; every FMA broadcasts its element of A
// from memory. Each element of T is the FMA chain over p from +0 in
// increasing p that kern6x8 computes, so T is bit for bit what kern6x8
// with alpha 1 and beta 0 gives on its four 6×8 sub-tiles.

// ZERO24 clears the accumulators.
#define ZERO24 \
	VXORPD Z0, Z0, Z0 \
	VXORPD Z1, Z1, Z1 \
	VXORPD Z2, Z2, Z2 \
	VXORPD Z3, Z3, Z3 \
	VXORPD Z4, Z4, Z4 \
	VXORPD Z5, Z5, Z5 \
	VXORPD Z6, Z6, Z6 \
	VXORPD Z7, Z7, Z7 \
	VXORPD Z8, Z8, Z8 \
	VXORPD Z9, Z9, Z9 \
	VXORPD Z10, Z10, Z10 \
	VXORPD Z11, Z11, Z11 \
	VXORPD Z12, Z12, Z12 \
	VXORPD Z13, Z13, Z13 \
	VXORPD Z14, Z14, Z14 \
	VXORPD Z15, Z15, Z15 \
	VXORPD Z16, Z16, Z16 \
	VXORPD Z17, Z17, Z17 \
	VXORPD Z18, Z18, Z18 \
	VXORPD Z19, Z19, Z19 \
	VXORPD Z20, Z20, Z20 \
	VXORPD Z21, Z21, Z21 \
	VXORPD Z22, Z22, Z22 \
	VXORPD Z23, Z23, Z23

// STORE24 stores the accumulators as T[0:24, 0:8] at DX (row stride 8).
#define STORE24 \
	VMOVUPD Z0, 0(DX) \
	VMOVUPD Z1, 64(DX) \
	VMOVUPD Z2, 128(DX) \
	VMOVUPD Z3, 192(DX) \
	VMOVUPD Z4, 256(DX) \
	VMOVUPD Z5, 320(DX) \
	VMOVUPD Z6, 384(DX) \
	VMOVUPD Z7, 448(DX) \
	VMOVUPD Z8, 512(DX) \
	VMOVUPD Z9, 576(DX) \
	VMOVUPD Z10, 640(DX) \
	VMOVUPD Z11, 704(DX) \
	VMOVUPD Z12, 768(DX) \
	VMOVUPD Z13, 832(DX) \
	VMOVUPD Z14, 896(DX) \
	VMOVUPD Z15, 960(DX) \
	VMOVUPD Z16, 1024(DX) \
	VMOVUPD Z17, 1088(DX) \
	VMOVUPD Z18, 1152(DX) \
	VMOVUPD Z19, 1216(DX) \
	VMOVUPD Z20, 1280(DX) \
	VMOVUPD Z21, 1344(DX) \
	VMOVUPD Z22, 1408(DX) \
	VMOVUPD Z23, 1472(DX)

// STEP24P(ob, oa) is one step of p for kern24x8: the row of B at ob(DI),
// the six values of each of the four packed micro-panels at oa(SI),
// oa(R10), oa(R11) and oa(R12).
#define STEP24P(ob, oa) \
	VMOVUPD ob(DI), Z24 \
	VFMADD231PD.BCST (oa+0)(SI), Z24, Z0 \
	VFMADD231PD.BCST (oa+8)(SI), Z24, Z1 \
	VFMADD231PD.BCST (oa+16)(SI), Z24, Z2 \
	VFMADD231PD.BCST (oa+24)(SI), Z24, Z3 \
	VFMADD231PD.BCST (oa+32)(SI), Z24, Z4 \
	VFMADD231PD.BCST (oa+40)(SI), Z24, Z5 \
	VFMADD231PD.BCST (oa+0)(R10), Z24, Z6 \
	VFMADD231PD.BCST (oa+8)(R10), Z24, Z7 \
	VFMADD231PD.BCST (oa+16)(R10), Z24, Z8 \
	VFMADD231PD.BCST (oa+24)(R10), Z24, Z9 \
	VFMADD231PD.BCST (oa+32)(R10), Z24, Z10 \
	VFMADD231PD.BCST (oa+40)(R10), Z24, Z11 \
	VFMADD231PD.BCST (oa+0)(R11), Z24, Z12 \
	VFMADD231PD.BCST (oa+8)(R11), Z24, Z13 \
	VFMADD231PD.BCST (oa+16)(R11), Z24, Z14 \
	VFMADD231PD.BCST (oa+24)(R11), Z24, Z15 \
	VFMADD231PD.BCST (oa+32)(R11), Z24, Z16 \
	VFMADD231PD.BCST (oa+40)(R11), Z24, Z17 \
	VFMADD231PD.BCST (oa+0)(R12), Z24, Z18 \
	VFMADD231PD.BCST (oa+8)(R12), Z24, Z19 \
	VFMADD231PD.BCST (oa+16)(R12), Z24, Z20 \
	VFMADD231PD.BCST (oa+24)(R12), Z24, Z21 \
	VFMADD231PD.BCST (oa+32)(R12), Z24, Z22 \
	VFMADD231PD.BCST (oa+40)(R12), Z24, Z23

// STEP24D(ob, oa) is one step of p for kern24x8d: the row of B at ob(DI),
// row 3i+m of A at oa(Ri)(BX*m) for the bases R8–R13, AX and SI (i = 0..7,
// m = 0..2).
#define STEP24D(ob, oa) \
	VMOVUPD ob(DI), Z24 \
	VFMADD231PD.BCST oa(R8), Z24, Z0 \
	VFMADD231PD.BCST oa(R8)(BX*1), Z24, Z1 \
	VFMADD231PD.BCST oa(R8)(BX*2), Z24, Z2 \
	VFMADD231PD.BCST oa(R9), Z24, Z3 \
	VFMADD231PD.BCST oa(R9)(BX*1), Z24, Z4 \
	VFMADD231PD.BCST oa(R9)(BX*2), Z24, Z5 \
	VFMADD231PD.BCST oa(R10), Z24, Z6 \
	VFMADD231PD.BCST oa(R10)(BX*1), Z24, Z7 \
	VFMADD231PD.BCST oa(R10)(BX*2), Z24, Z8 \
	VFMADD231PD.BCST oa(R11), Z24, Z9 \
	VFMADD231PD.BCST oa(R11)(BX*1), Z24, Z10 \
	VFMADD231PD.BCST oa(R11)(BX*2), Z24, Z11 \
	VFMADD231PD.BCST oa(R12), Z24, Z12 \
	VFMADD231PD.BCST oa(R12)(BX*1), Z24, Z13 \
	VFMADD231PD.BCST oa(R12)(BX*2), Z24, Z14 \
	VFMADD231PD.BCST oa(R13), Z24, Z15 \
	VFMADD231PD.BCST oa(R13)(BX*1), Z24, Z16 \
	VFMADD231PD.BCST oa(R13)(BX*2), Z24, Z17 \
	VFMADD231PD.BCST oa(AX), Z24, Z18 \
	VFMADD231PD.BCST oa(AX)(BX*1), Z24, Z19 \
	VFMADD231PD.BCST oa(AX)(BX*2), Z24, Z20 \
	VFMADD231PD.BCST oa(SI), Z24, Z21 \
	VFMADD231PD.BCST oa(SI)(BX*1), Z24, Z22 \
	VFMADD231PD.BCST oa(SI)(BX*2), Z24, Z23

// func kern24x8(k int, a *float64, psA int, b *float64, t *float64)
//
// T[0:24, 0:8] = Σ_p A_p ⊗ B_p for p < k, T row-major with row stride 8,
// from four consecutive micro-panels of A (rows 6q to 6q+5 at a+q·psA, 6
// values per p each) and one of B (8 values per p), as packA and packB lay
// them out. kernelTileT uses it for tiles of 7–8 rows computed as their
// transpose, where the 8 columns of a micro-panel of B are the tile's rows.
// SI, R10, R11 and R12 walk the four panels of A, DI the panel of B.
TEXT ·kern24x8(SB), NOSPLIT, $0-40
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ psA+16(FP), BX
	MOVQ b+24(FP), DI
	MOVQ t+32(FP), DX
	SHLQ $3, BX
	LEAQ (SI)(BX*1), R10
	LEAQ (R10)(BX*1), R11
	LEAQ (R11)(BX*1), R12
	ZERO24
	MOVQ CX, BX
	SHRQ $2, BX
	ANDQ $3, CX
	TESTQ BX, BX
	JZ tail24

	// Four steps of p per iteration; the loop starts on a 64-byte boundary.
	PCALIGN $64
loop24x4:
	STEP24P(0, 0)
	STEP24P(64, 48)
	STEP24P(128, 96)
	STEP24P(192, 144)
	ADDQ $192, SI
	ADDQ $192, R10
	ADDQ $192, R11
	ADDQ $192, R12
	ADDQ $256, DI
	DECQ BX
	JNZ loop24x4

tail24:
	TESTQ CX, CX
	JZ store24
	PCALIGN $64
loop24x1:
	STEP24P(0, 0)
	ADDQ $48, SI
	ADDQ $48, R10
	ADDQ $48, R11
	ADDQ $48, R12
	ADDQ $64, DI
	DECQ CX
	JNZ loop24x1

store24:
	STORE24
	VZEROUPPER
	RET

// func kern24x8d(k int, a *float64, lda int, b *float64, t *float64)
//
// kern24x8 with A read where it lies instead of packed: row r < 24 of the
// A side is a[r·lda : r·lda+k] (rows of a row-major matrix, lda elements
// apart), so T[r, s] = Σ_p a[r·lda+p]·B_p[s], the same bits as kern24x8 on
// the packed copy of those rows. kernelTileT uses it where the A side is
// the rows of a weight matrix (op(B) = Wᵀ), which then need not be packed
// at every time step. BX = lda·8; DI walks B; DX counts blocks of four
// steps, CX the rest.
TEXT ·kern24x8d(SB), NOSPLIT, $0-40
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), R8
	MOVQ lda+16(FP), BX
	MOVQ b+24(FP), DI
	SHLQ $3, BX
	LEAQ (R8)(BX*2), R9
	ADDQ BX, R9
	LEAQ (R9)(BX*2), R10
	ADDQ BX, R10
	LEAQ (R10)(BX*2), R11
	ADDQ BX, R11
	LEAQ (R11)(BX*2), R12
	ADDQ BX, R12
	LEAQ (R12)(BX*2), R13
	ADDQ BX, R13
	LEAQ (R13)(BX*2), AX
	ADDQ BX, AX
	LEAQ (AX)(BX*2), SI
	ADDQ BX, SI
	ZERO24
	MOVQ CX, DX
	SHRQ $2, DX
	ANDQ $3, CX
	TESTQ DX, DX
	JZ tail24d

	PCALIGN $64
loop24dx4:
	STEP24D(0, 0)
	STEP24D(64, 8)
	STEP24D(128, 16)
	STEP24D(192, 24)
	ADDQ $32, R8
	ADDQ $32, R9
	ADDQ $32, R10
	ADDQ $32, R11
	ADDQ $32, R12
	ADDQ $32, R13
	ADDQ $32, AX
	ADDQ $32, SI
	ADDQ $256, DI
	DECQ DX
	JNZ loop24dx4

tail24d:
	TESTQ CX, CX
	JZ store24d
	PCALIGN $64
loop24dx1:
	STEP24D(0, 0)
	ADDQ $8, R8
	ADDQ $8, R9
	ADDQ $8, R10
	ADDQ $8, R11
	ADDQ $8, R12
	ADDQ $8, R13
	ADDQ $8, AX
	ADDQ $8, SI
	ADDQ $64, DI
	DECQ CX
	JNZ loop24dx1

store24d:
	MOVQ t+32(FP), DX
	STORE24
	VZEROUPPER
	RET
