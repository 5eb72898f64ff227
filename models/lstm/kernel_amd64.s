//go:build amd64 && !purego

#include "textflag.h"

// The AVX2+FMA kernels of kernel_amd64.go. Go's operand order is the
// reverse of Intel's: VFMADD231PS a, b, acc is acc += b·a, VDIVPS a, b, d
// is d = b / a, VBLENDVPS m, a, b, d is d = m ? a : b.

// C8 defines a 32-byte constant: eight copies of one float32's bits, so
// it serves as a ymm memory operand.
#define C8(name, bits) \
	DATA name<>+0(SB)/4, $bits; \
	DATA name<>+4(SB)/4, $bits; \
	DATA name<>+8(SB)/4, $bits; \
	DATA name<>+12(SB)/4, $bits; \
	DATA name<>+16(SB)/4, $bits; \
	DATA name<>+20(SB)/4, $bits; \
	DATA name<>+24(SB)/4, $bits; \
	DATA name<>+28(SB)/4, $bits; \
	GLOBL name<>(SB), RODATA|NOPTR, $32

C8(one, 0x3f800000)
C8(two, 0x40000000)
C8(signbit, 0x80000000)
C8(absmask, 0x7fffffff)
C8(bias127, 0x0000007f)
C8(expHi, 0x42ae0000)    // 87: exp's argument is clamped to ±87 (normal results)
C8(expLo, 0xc2ae0000)    // -87
C8(log2e, 0x3fb8aa3b)    // 1.44269504
C8(ln2hi, 0x3f318000)    // 0.693359375: few bits, so n·ln2hi is exact
C8(ln2lo, 0xb95e8083)    // -2.12194440e-4: ln 2 − ln2hi
C8(expP0, 0x39506967)    // Cephes expf: 1.9875691500e-4
C8(expP1, 0x3ab743ce)    // 1.3981999507e-3
C8(expP2, 0x3c088908)    // 8.3334519073e-3
C8(expP3, 0x3d2aa9c1)    // 4.1665795894e-2
C8(expP4, 0x3e2aaaaa)    // 1.6666665459e-1
C8(expP5, 0x3f000000)    // 5.0000001201e-1
C8(tanhT0, 0xbbbaf0ea)   // Cephes tanhf: -5.70498872745e-3
C8(tanhT1, 0x3ca9134e)   // 2.06390887954e-2
C8(tanhT2, 0xbd5c1e2d)   // -5.37397155531e-2
C8(tanhT3, 0x3e088393)   // 1.33314422036e-1
C8(tanhT4, 0xbeaaaa99)   // -3.33332819422e-1
C8(tanhSmall, 0x3f200000) // 0.625: below it the odd polynomial, above 1 − 2/(e^2x + 1)

// EXP sets V to e^V for V already clamped to ±87, as Cephes expf does:
// n = round(V·log2 e), r = V − n·ln 2 in two parts, e^r by a degree-7
// polynomial, times 2^n built in the exponent bits. About 1 ulp.
#define EXP(V, T1, T2) \
	VMULPS       log2e<>(SB), V, T1; \
	VROUNDPS     $0, T1, T1; \
	VFNMADD231PS ln2hi<>(SB), T1, V; \
	VFNMADD231PS ln2lo<>(SB), T1, V; \
	VMOVUPS      expP0<>(SB), T2; \
	VFMADD213PS  expP1<>(SB), V, T2; \
	VFMADD213PS  expP2<>(SB), V, T2; \
	VFMADD213PS  expP3<>(SB), V, T2; \
	VFMADD213PS  expP4<>(SB), V, T2; \
	VFMADD213PS  expP5<>(SB), V, T2; \
	VMULPS       V, T2, T2; \
	VFMADD213PS  V, V, T2; \
	VADDPS       one<>(SB), T2, T2; \
	VCVTPS2DQ    T1, T1; \
	VPADDD       bias127<>(SB), T1, T1; \
	VPSLLD       $23, T1, T1; \
	VMULPS       T1, T2, V

// SIGMOID sets X to 1 / (1 + e^−X). The clamps take the constant as the
// first Intel source so that a NaN input comes out NaN. Uses Y6–Y8.
#define SIGMOID(X) \
	VXORPS  signbit<>(SB), X, Y6; \
	VMOVUPS expHi<>(SB), Y7; \
	VMINPS  Y6, Y7, Y6; \
	VMOVUPS expLo<>(SB), Y7; \
	VMAXPS  Y6, Y7, Y6; \
	EXP(Y6, Y7, Y8); \
	VADDPS  one<>(SB), Y6, Y6; \
	VMOVUPS one<>(SB), X; \
	VDIVPS  Y6, X, X

// TANH sets X to tanh X: x + x³·P(x²) for |x| ≤ 0.625 (Cephes tanhf),
// else ±(1 − 2 / (e^2|x| + 1)), which does not cancel there. Uses Y6–Y10.
#define TANH(X) \
	VANDPS      absmask<>(SB), X, Y6; \
	VADDPS      Y6, Y6, Y7; \
	VMOVUPS     expHi<>(SB), Y8; \
	VMINPS      Y7, Y8, Y7; \
	EXP(Y7, Y8, Y9); \
	VADDPS      one<>(SB), Y7, Y7; \
	VMOVUPS     two<>(SB), Y8; \
	VDIVPS      Y7, Y8, Y8; \
	VMOVUPS     one<>(SB), Y7; \
	VSUBPS      Y8, Y7, Y7; \
	VANDPS      signbit<>(SB), X, Y8; \
	VORPS       Y8, Y7, Y7; \
	VMULPS      X, X, Y8; \
	VMOVUPS     tanhT0<>(SB), Y9; \
	VFMADD213PS tanhT1<>(SB), Y8, Y9; \
	VFMADD213PS tanhT2<>(SB), Y8, Y9; \
	VFMADD213PS tanhT3<>(SB), Y8, Y9; \
	VFMADD213PS tanhT4<>(SB), Y8, Y9; \
	VMULPS      Y8, Y9, Y9; \
	VFMADD213PS X, X, Y9; \
	VCMPPS      $0x1e, tanhSmall<>(SB), Y6, Y10; \
	VBLENDVPS   Y10, Y7, Y9, X

// func gatesAVX2(a *float32, lda, rows, k int, w, bias *float32, panels int, gs *float32, ldg int)
//
// Register use: Y0–Y11 the 3 × 32 accumulators (row r in Y4r..Y4r+3),
// Y12–Y14 a broadcast input of each row, Y15 eight weights. The panel loop
// is outside the row loop so one panel (k × 128 bytes) stays in L1 while
// every row tile reads it.
TEXT ·gatesAVX2(SB), NOSPLIT, $0-72
	MOVQ lda+8(FP), R8
	SHLQ $2, R8
	MOVQ w+32(FP), R10
	MOVQ bias+40(FP), R11
	MOVQ panels+48(FP), R12
	MOVQ gs+56(FP), BX
	MOVQ ldg+64(FP), R13
	SHLQ $2, R13

panel:
	MOVQ a+0(FP), SI
	MOVQ BX, DX
	MOVQ rows+16(FP), R9

tile:
	VMOVUPS (R11), Y0
	VMOVUPS 32(R11), Y1
	VMOVUPS 64(R11), Y2
	VMOVUPS 96(R11), Y3
	VMOVAPS Y0, Y4
	VMOVAPS Y1, Y5
	VMOVAPS Y2, Y6
	VMOVAPS Y3, Y7
	VMOVAPS Y0, Y8
	VMOVAPS Y1, Y9
	VMOVAPS Y2, Y10
	VMOVAPS Y3, Y11
	MOVQ    SI, AX
	MOVQ    R10, DI
	MOVQ    k+24(FP), CX

kloop:
	VBROADCASTSS (AX), Y12
	VBROADCASTSS (AX)(R8*1), Y13
	VBROADCASTSS (AX)(R8*2), Y14
	VMOVUPS      (DI), Y15
	VFMADD231PS  Y15, Y12, Y0
	VFMADD231PS  Y15, Y13, Y4
	VFMADD231PS  Y15, Y14, Y8
	VMOVUPS      32(DI), Y15
	VFMADD231PS  Y15, Y12, Y1
	VFMADD231PS  Y15, Y13, Y5
	VFMADD231PS  Y15, Y14, Y9
	VMOVUPS      64(DI), Y15
	VFMADD231PS  Y15, Y12, Y2
	VFMADD231PS  Y15, Y13, Y6
	VFMADD231PS  Y15, Y14, Y10
	VMOVUPS      96(DI), Y15
	VFMADD231PS  Y15, Y12, Y3
	VFMADD231PS  Y15, Y13, Y7
	VFMADD231PS  Y15, Y14, Y11
	ADDQ         $4, AX
	ADDQ         $128, DI
	DECQ         CX
	JNZ          kloop

	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, 64(DX)
	VMOVUPS Y3, 96(DX)
	VMOVUPS Y4, (DX)(R13*1)
	VMOVUPS Y5, 32(DX)(R13*1)
	VMOVUPS Y6, 64(DX)(R13*1)
	VMOVUPS Y7, 96(DX)(R13*1)
	VMOVUPS Y8, (DX)(R13*2)
	VMOVUPS Y9, 32(DX)(R13*2)
	VMOVUPS Y10, 64(DX)(R13*2)
	VMOVUPS Y11, 96(DX)(R13*2)
	LEAQ    (SI)(R8*2), SI
	ADDQ    R8, SI
	LEAQ    (DX)(R13*2), DX
	ADDQ    R13, DX
	SUBQ    $3, R9
	JNZ     tile

	MOVQ k+24(FP), CX
	SHLQ $7, CX
	ADDQ CX, R10
	ADDQ $128, R11
	ADDQ $128, BX
	DECQ R12
	JNZ  panel

	VZEROUPPER
	RET

// func cellAVX2(gs *float32, ldg int, c, h *float32, ldh, rows, hid, n8, sigmoid int)
//
// Per row: gate blocks i, f, g, o of hid values each start at g, c has
// hid values, h is at h; units 0..n8 (a multiple of 8) are done here.
TEXT ·cellAVX2(SB), NOSPLIT, $0-72
	MOVQ gs+0(FP), DI
	MOVQ ldg+8(FP), R8
	SHLQ $2, R8
	MOVQ c+16(FP), SI
	MOVQ h+24(FP), DX
	MOVQ ldh+32(FP), R9
	SHLQ $2, R9
	MOVQ rows+40(FP), R10
	MOVQ hid+48(FP), R11
	SHLQ $2, R11
	MOVQ n8+56(FP), R12
	SHLQ $2, R12

row:
	LEAQ (DI)(R11*1), BX
	LEAQ (DI)(R11*2), CX
	LEAQ (CX)(R11*1), R13
	XORQ AX, AX

unit:
	VMOVUPS (DI)(AX*1), Y0
	VMOVUPS (BX)(AX*1), Y1
	VMOVUPS (CX)(AX*1), Y2
	VMOVUPS (R13)(AX*1), Y3
	CMPQ    sigmoid+64(FP), $0
	JEQ     activated
	SIGMOID(Y0)
	SIGMOID(Y1)
	SIGMOID(Y3)

activated:
	TANH(Y2)
	VMOVUPS     (SI)(AX*1), Y4
	VMULPS      Y4, Y1, Y4
	VFMADD231PS Y2, Y0, Y4
	VMOVUPS     Y4, (SI)(AX*1)
	TANH(Y4)
	VMULPS      Y4, Y3, Y4
	VMOVUPS     Y4, (DX)(AX*1)
	ADDQ        $32, AX
	CMPQ        AX, R12
	JLT         unit

	ADDQ R8, DI
	ADDQ R11, SI
	ADDQ R9, DX
	DECQ R10
	JNZ  row

	VZEROUPPER
	RET
