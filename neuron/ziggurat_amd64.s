#include "textflag.h"

// zigiota holds 0..7, the lanes' row numbers.
DATA zigiota<>+0(SB)/8, $0
DATA zigiota<>+8(SB)/8, $1
DATA zigiota<>+16(SB)/8, $2
DATA zigiota<>+24(SB)/8, $3
DATA zigiota<>+32(SB)/8, $4
DATA zigiota<>+40(SB)/8, $5
DATA zigiota<>+48(SB)/8, $6
DATA zigiota<>+56(SB)/8, $7
GLOBL zigiota<>(SB), RODATA|NOPTR, $64

// func zig8(st *[4][8]uint64, dst *float64, stride int, n int, fail *[16]int64) (done int, mask uint64)
//
// Eight streams side by side, one per lane: lane l's xoshiro256++ state is
// st[0..3][l]. For k = 0, 1, ... < n it draws each lane's next number as
// stream.fill does and writes the ziggurat's fast-path value to
// dst[l·stride + k]. It stops after the first draw that some lane does not
// accept on the fast path: it then returns done = k+1, in mask the lanes
// that need normalSlow, and in fail[l] and fail[8+l] their j and layer i;
// otherwise done = n and mask = 0. The states are written back to st.
// Registers: Z0–Z3 the states' four words, Z4 the lanes' offsets l·stride,
// Z5 the layer mask 127, Z6–Z13 scratch; R9 and R10 the tables zigK and zigW.
TEXT ·zig8(SB), NOSPLIT, $0-56
	MOVQ st+0(FP), AX
	MOVQ dst+8(FP), DI
	MOVQ stride+16(FP), BX
	MOVQ n+24(FP), CX
	MOVQ fail+32(FP), R8
	VMOVDQU64 0(AX), Z0
	VMOVDQU64 64(AX), Z1
	VMOVDQU64 128(AX), Z2
	VMOVDQU64 192(AX), Z3
	VPBROADCASTQ BX, Z4
	VPMULLQ zigiota<>(SB), Z4, Z4
	MOVQ $127, DX
	VPBROADCASTQ DX, Z5
	LEAQ ·zigK(SB), R9
	LEAQ ·zigW(SB), R10
	XORQ DX, DX
	TESTQ CX, CX
	JLE   done

loop:
	// xoshiro256++: r = rotl(s0+s3, 23) + s0, then the state's update.
	VPADDQ Z3, Z0, Z6
	VPROLQ $23, Z6, Z6
	VPADDQ Z0, Z6, Z6
	VPSLLQ $17, Z1, Z7
	VPXORQ Z0, Z2, Z2
	VPXORQ Z1, Z3, Z3
	VPXORQ Z2, Z1, Z1
	VPXORQ Z3, Z0, Z0
	VPXORQ Z7, Z2, Z2
	VPROLQ $45, Z3, Z3

	// The ziggurat's fast path: i = r & 127, j = int64(r) >> 8, accept
	// where |j| < zigK[i], the value float64(j)·zigW[i].
	VPANDQ  Z5, Z6, Z8
	VPSRAQ  $8, Z6, Z9
	VPABSQ  Z9, Z10
	KXNORB  K1, K1, K1
	VPGATHERQQ (R9)(Z8*8), K1, Z11
	KXNORB  K2, K2, K2
	VGATHERQPD (R10)(Z8*8), K2, Z12
	VPCMPQ  $1, Z11, Z10, K3
	VCVTQQ2PD Z9, Z13
	VMULPD  Z12, Z13, Z13
	KXNORB  K4, K4, K4
	VSCATTERQPD Z13, K4, (DI)(Z4*8)
	ADDQ    $8, DI
	INCQ    DX
	KORTESTB K3, K3
	JCC     slow
	CMPQ    DX, CX
	JLT     loop

done:
	VMOVDQU64 Z0, 0(AX)
	VMOVDQU64 Z1, 64(AX)
	VMOVDQU64 Z2, 128(AX)
	VMOVDQU64 Z3, 192(AX)
	MOVQ DX, done+40(FP)
	MOVQ $0, mask+48(FP)
	VZEROUPPER
	RET

slow:
	VMOVDQU64 Z9, 0(R8)
	VMOVDQU64 Z8, 64(R8)
	KMOVB K3, R11
	NOTQ  R11
	ANDQ  $0xff, R11
	VMOVDQU64 Z0, 0(AX)
	VMOVDQU64 Z1, 64(AX)
	VMOVDQU64 Z2, 128(AX)
	VMOVDQU64 Z3, 192(AX)
	MOVQ DX, done+40(FP)
	MOVQ R11, mask+48(FP)
	VZEROUPPER
	RET
