#include "textflag.h"

// Constants of tanhAVX2, each replicated in the four lanes of a YMM register.
DATA tanhc<>+0(SB)/8, $0x7fffffffffffffff
DATA tanhc<>+8(SB)/8, $0x7fffffffffffffff
DATA tanhc<>+16(SB)/8, $0x7fffffffffffffff
DATA tanhc<>+24(SB)/8, $0x7fffffffffffffff
DATA tanhc<>+32(SB)/8, $0x4034000000000000
DATA tanhc<>+40(SB)/8, $0x4034000000000000
DATA tanhc<>+48(SB)/8, $0x4034000000000000
DATA tanhc<>+56(SB)/8, $0x4034000000000000
DATA tanhc<>+64(SB)/8, $0x3ff71547652b82fe
DATA tanhc<>+72(SB)/8, $0x3ff71547652b82fe
DATA tanhc<>+80(SB)/8, $0x3ff71547652b82fe
DATA tanhc<>+88(SB)/8, $0x3ff71547652b82fe
DATA tanhc<>+96(SB)/8, $0x3fe62e42fee00000
DATA tanhc<>+104(SB)/8, $0x3fe62e42fee00000
DATA tanhc<>+112(SB)/8, $0x3fe62e42fee00000
DATA tanhc<>+120(SB)/8, $0x3fe62e42fee00000
DATA tanhc<>+128(SB)/8, $0x3dea39ef35793c76
DATA tanhc<>+136(SB)/8, $0x3dea39ef35793c76
DATA tanhc<>+144(SB)/8, $0x3dea39ef35793c76
DATA tanhc<>+152(SB)/8, $0x3dea39ef35793c76
DATA tanhc<>+160(SB)/8, $0x43300000000003ff
DATA tanhc<>+168(SB)/8, $0x43300000000003ff
DATA tanhc<>+176(SB)/8, $0x43300000000003ff
DATA tanhc<>+184(SB)/8, $0x43300000000003ff
DATA tanhc<>+192(SB)/8, $0x3ff0000000000000
DATA tanhc<>+200(SB)/8, $0x3ff0000000000000
DATA tanhc<>+208(SB)/8, $0x3ff0000000000000
DATA tanhc<>+216(SB)/8, $0x3ff0000000000000
DATA tanhc<>+224(SB)/8, $0x4000000000000000
DATA tanhc<>+232(SB)/8, $0x4000000000000000
DATA tanhc<>+240(SB)/8, $0x4000000000000000
DATA tanhc<>+248(SB)/8, $0x4000000000000000
DATA tanhc<>+256(SB)/8, $0x3de6124613a86d09
DATA tanhc<>+264(SB)/8, $0x3de6124613a86d09
DATA tanhc<>+272(SB)/8, $0x3de6124613a86d09
DATA tanhc<>+280(SB)/8, $0x3de6124613a86d09
DATA tanhc<>+288(SB)/8, $0x3e21eed8eff8d898
DATA tanhc<>+296(SB)/8, $0x3e21eed8eff8d898
DATA tanhc<>+304(SB)/8, $0x3e21eed8eff8d898
DATA tanhc<>+312(SB)/8, $0x3e21eed8eff8d898
DATA tanhc<>+320(SB)/8, $0x3e5ae64567f544e4
DATA tanhc<>+328(SB)/8, $0x3e5ae64567f544e4
DATA tanhc<>+336(SB)/8, $0x3e5ae64567f544e4
DATA tanhc<>+344(SB)/8, $0x3e5ae64567f544e4
DATA tanhc<>+352(SB)/8, $0x3e927e4fb7789f5c
DATA tanhc<>+360(SB)/8, $0x3e927e4fb7789f5c
DATA tanhc<>+368(SB)/8, $0x3e927e4fb7789f5c
DATA tanhc<>+376(SB)/8, $0x3e927e4fb7789f5c
DATA tanhc<>+384(SB)/8, $0x3ec71de3a556c734
DATA tanhc<>+392(SB)/8, $0x3ec71de3a556c734
DATA tanhc<>+400(SB)/8, $0x3ec71de3a556c734
DATA tanhc<>+408(SB)/8, $0x3ec71de3a556c734
DATA tanhc<>+416(SB)/8, $0x3efa01a01a01a01a
DATA tanhc<>+424(SB)/8, $0x3efa01a01a01a01a
DATA tanhc<>+432(SB)/8, $0x3efa01a01a01a01a
DATA tanhc<>+440(SB)/8, $0x3efa01a01a01a01a
DATA tanhc<>+448(SB)/8, $0x3f2a01a01a01a01a
DATA tanhc<>+456(SB)/8, $0x3f2a01a01a01a01a
DATA tanhc<>+464(SB)/8, $0x3f2a01a01a01a01a
DATA tanhc<>+472(SB)/8, $0x3f2a01a01a01a01a
DATA tanhc<>+480(SB)/8, $0x3f56c16c16c16c17
DATA tanhc<>+488(SB)/8, $0x3f56c16c16c16c17
DATA tanhc<>+496(SB)/8, $0x3f56c16c16c16c17
DATA tanhc<>+504(SB)/8, $0x3f56c16c16c16c17
DATA tanhc<>+512(SB)/8, $0x3f81111111111111
DATA tanhc<>+520(SB)/8, $0x3f81111111111111
DATA tanhc<>+528(SB)/8, $0x3f81111111111111
DATA tanhc<>+536(SB)/8, $0x3f81111111111111
DATA tanhc<>+544(SB)/8, $0x3fa5555555555555
DATA tanhc<>+552(SB)/8, $0x3fa5555555555555
DATA tanhc<>+560(SB)/8, $0x3fa5555555555555
DATA tanhc<>+568(SB)/8, $0x3fa5555555555555
DATA tanhc<>+576(SB)/8, $0x3fc5555555555555
DATA tanhc<>+584(SB)/8, $0x3fc5555555555555
DATA tanhc<>+592(SB)/8, $0x3fc5555555555555
DATA tanhc<>+600(SB)/8, $0x3fc5555555555555
DATA tanhc<>+608(SB)/8, $0x3fe0000000000000
DATA tanhc<>+616(SB)/8, $0x3fe0000000000000
DATA tanhc<>+624(SB)/8, $0x3fe0000000000000
DATA tanhc<>+632(SB)/8, $0x3fe0000000000000
GLOBL tanhc<>(SB), RODATA|NOPTR, $640

// func tanhAVX2(dst, src *float64, n int)
// dst[i] = tanh(src[i]) for i < n, n a multiple of 4; see tanh.go for the method.
TEXT ·tanhAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VMOVUPD tanhc<>+0(SB), Y15
	VMOVUPD tanhc<>+32(SB), Y14
	VMOVUPD tanhc<>+64(SB), Y13
	VMOVUPD tanhc<>+96(SB), Y12
	VMOVUPD tanhc<>+128(SB), Y11
	VMOVUPD tanhc<>+192(SB), Y10
	VMOVUPD tanhc<>+256(SB), Y9
loop:
	CMPQ CX, $0
	JLE done
	VMOVUPD (SI), Y0            // x
	VANDPD Y15, Y0, Y1          // a = |x|
	VMINPD Y1, Y14, Y1          // a = min(20, a); a NaN stays NaN
	VADDPD Y1, Y1, Y1           // y = 2a
	VMULPD Y13, Y1, Y2
	VROUNDPD $0, Y2, Y2         // k = round(y/ln2), ties to even
	VFNMADD231PD Y12, Y2, Y1    // y − k·ln2hi
	VFNMADD231PD Y11, Y2, Y1    // r = y − k·ln2hi − k·ln2lo
	VMOVAPD Y9, Y3              // Horner: p = c13
	VFMADD213PD tanhc<>+288(SB), Y1, Y3  // p = p·r + c12
	VFMADD213PD tanhc<>+320(SB), Y1, Y3  // p = p·r + c11
	VFMADD213PD tanhc<>+352(SB), Y1, Y3  // p = p·r + c10
	VFMADD213PD tanhc<>+384(SB), Y1, Y3  // p = p·r + c9
	VFMADD213PD tanhc<>+416(SB), Y1, Y3  // p = p·r + c8
	VFMADD213PD tanhc<>+448(SB), Y1, Y3  // p = p·r + c7
	VFMADD213PD tanhc<>+480(SB), Y1, Y3  // p = p·r + c6
	VFMADD213PD tanhc<>+512(SB), Y1, Y3  // p = p·r + c5
	VFMADD213PD tanhc<>+544(SB), Y1, Y3  // p = p·r + c4
	VFMADD213PD tanhc<>+576(SB), Y1, Y3  // p = p·r + c3
	VFMADD213PD tanhc<>+608(SB), Y1, Y3  // p = p·r + c2
	VFMADD213PD Y10, Y1, Y3     // p = p·r + 1
	VMULPD Y1, Y3, Y3           // q = e^r − 1 = p·r
	VADDPD tanhc<>+160(SB), Y2, Y4  // k + 2^52 + 1023
	VPSLLQ $52, Y4, Y4          // 2^k
	VSUBPD Y10, Y4, Y5          // 2^k − 1
	VFMADD231PD Y3, Y4, Y5      // m = 2^k·q + (2^k − 1) = e^y − 1
	VADDPD tanhc<>+224(SB), Y5, Y6  // m + 2
	VDIVPD Y6, Y5, Y6           // m/(m + 2)
	VANDNPD Y0, Y15, Y7         // sign of x
	VORPD Y7, Y6, Y6
	VMOVUPD Y6, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $4, CX
	JMP loop
done:
	VZEROUPPER
	RET

// Constants of tanhAVX512, one per 8 bytes (broadcast on use).
DATA tanhz<>+0(SB)/8, $0x7fffffffffffffff
DATA tanhz<>+8(SB)/8, $0x4034000000000000
DATA tanhz<>+16(SB)/8, $0x3ff71547652b82fe
DATA tanhz<>+24(SB)/8, $0x3fe62e42fee00000
DATA tanhz<>+32(SB)/8, $0x3dea39ef35793c76
DATA tanhz<>+40(SB)/8, $0x43300000000003ff
DATA tanhz<>+48(SB)/8, $0x3ff0000000000000
DATA tanhz<>+56(SB)/8, $0x4000000000000000
DATA tanhz<>+64(SB)/8, $0x3de6124613a86d09
DATA tanhz<>+72(SB)/8, $0x3e21eed8eff8d898
DATA tanhz<>+80(SB)/8, $0x3e5ae64567f544e4
DATA tanhz<>+88(SB)/8, $0x3e927e4fb7789f5c
DATA tanhz<>+96(SB)/8, $0x3ec71de3a556c734
DATA tanhz<>+104(SB)/8, $0x3efa01a01a01a01a
DATA tanhz<>+112(SB)/8, $0x3f2a01a01a01a01a
DATA tanhz<>+120(SB)/8, $0x3f56c16c16c16c17
DATA tanhz<>+128(SB)/8, $0x3f81111111111111
DATA tanhz<>+136(SB)/8, $0x3fa5555555555555
DATA tanhz<>+144(SB)/8, $0x3fc5555555555555
DATA tanhz<>+152(SB)/8, $0x3fe0000000000000
GLOBL tanhz<>(SB), RODATA|NOPTR, $160

// func tanhAVX512(dst, src *float64, n int)
// dst[i] = tanh(src[i]) for i < n, n a multiple of 8; the method of tanhAVX2 on 8 lanes.
TEXT ·tanhAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VPBROADCASTQ tanhz<>+0(SB), Z15
	VBROADCASTSD tanhz<>+8(SB), Z14
	VBROADCASTSD tanhz<>+16(SB), Z13
	VBROADCASTSD tanhz<>+24(SB), Z12
	VBROADCASTSD tanhz<>+32(SB), Z11
	VBROADCASTSD tanhz<>+48(SB), Z10
	VBROADCASTSD tanhz<>+64(SB), Z9
	VBROADCASTSD tanhz<>+40(SB), Z8
	VBROADCASTSD tanhz<>+56(SB), Z16
	VBROADCASTSD tanhz<>+72(SB), Z17
	VBROADCASTSD tanhz<>+80(SB), Z18
	VBROADCASTSD tanhz<>+88(SB), Z19
	VBROADCASTSD tanhz<>+96(SB), Z20
	VBROADCASTSD tanhz<>+104(SB), Z21
	VBROADCASTSD tanhz<>+112(SB), Z22
	VBROADCASTSD tanhz<>+120(SB), Z23
	VBROADCASTSD tanhz<>+128(SB), Z24
	VBROADCASTSD tanhz<>+136(SB), Z25
	VBROADCASTSD tanhz<>+144(SB), Z26
	VBROADCASTSD tanhz<>+152(SB), Z27
zloop:
	CMPQ CX, $0
	JLE zdone
	VMOVUPD (SI), Z0
	VPANDQ Z15, Z0, Z1          // a = |x|
	VMINPD Z1, Z14, Z1          // min(20, a), NaN kept
	VADDPD Z1, Z1, Z1
	VMULPD Z13, Z1, Z2
	VRNDSCALEPD $0, Z2, Z2      // k, ties to even
	VFNMADD231PD Z12, Z2, Z1
	VFNMADD231PD Z11, Z2, Z1    // r
	VMOVAPD Z9, Z3
	VFMADD213PD Z17, Z1, Z3     // p = p·r + c12
	VFMADD213PD Z18, Z1, Z3     // p = p·r + c11
	VFMADD213PD Z19, Z1, Z3     // p = p·r + c10
	VFMADD213PD Z20, Z1, Z3     // p = p·r + c9
	VFMADD213PD Z21, Z1, Z3     // p = p·r + c8
	VFMADD213PD Z22, Z1, Z3     // p = p·r + c7
	VFMADD213PD Z23, Z1, Z3     // p = p·r + c6
	VFMADD213PD Z24, Z1, Z3     // p = p·r + c5
	VFMADD213PD Z25, Z1, Z3     // p = p·r + c4
	VFMADD213PD Z26, Z1, Z3     // p = p·r + c3
	VFMADD213PD Z27, Z1, Z3     // p = p·r + c2
	VFMADD213PD Z10, Z1, Z3     // p = p·r + 1
	VMULPD Z1, Z3, Z3           // q
	VADDPD Z8, Z2, Z4
	VPSLLQ $52, Z4, Z4          // 2^k
	VSUBPD Z10, Z4, Z5
	VFMADD231PD Z3, Z4, Z5      // m = e^y − 1
	VADDPD Z16, Z5, Z6
	VDIVPD Z6, Z5, Z6
	VPANDNQ Z0, Z15, Z7         // sign of x
	VPORQ Z7, Z6, Z6
	VMOVUPD Z6, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $8, CX
	JMP zloop
zdone:
	VZEROUPPER
	RET
