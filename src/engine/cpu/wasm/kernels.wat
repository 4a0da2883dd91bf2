;; WebAssembly SIMD (f64x2) versions of the kernels in ../kernels.ts, same semantics.
;; Addresses are byte offsets into the imported memory; strides are in bytes.
;; f64x2.madd of A, B, C is A·B + C: not an instruction, assemble-kernels.ts writes it out as relaxed SIMD's
;; f64x2.relaxed_madd for one build and as f64x2.mul + f64x2.add for the other. In the Gram both give the same
;; bits: its products (of two f32) are exact in f64, so fusing them skips no rounding. The dot products' running
;; sums (symvUpper's d0 and d1, dots) stay a separate mul and add in both builds: each is one dependency chain,
;; and a fused multiply-add's longer latency (5 cycles against the add's 3 on AMD Zen) slowed them by 10 %.
;; Regenerate the embedded bytes with `npm run build:wasm` (build-wasm.ts beside this file).
(module
  (import "env" "memory" (memory 1 65536))

  ;; C[4x4] at $c (row stride $ldc bytes) += sum over $kc steps of A(k, 0..3) B(k, 0..3)ᵀ,
  ;; A and B packed 4 values per step (32 bytes). Eight accumulators of two lanes hold the block.
  (func $block4x4 (param $a i32) (param $b i32) (param $kc i32) (param $c i32) (param $ldc i32)
    (local $end i32) (local $b01 v128) (local $b23 v128) (local $x v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $kc) (i32.const 5))))
    (if (i32.gt_s (local.get $kc) (i32.const 0))
      (then
        (loop $k
          (local.set $b01 (v128.load (local.get $b)))
          (local.set $b23 (v128.load offset=16 (local.get $b)))
          (local.set $x (v128.load64_splat (local.get $a)))
          (local.set $c00 (f64x2.madd (local.get $x) (local.get $b01) (local.get $c00)))
          (local.set $c01 (f64x2.madd (local.get $x) (local.get $b23) (local.get $c01)))
          (local.set $x (v128.load64_splat offset=8 (local.get $a)))
          (local.set $c10 (f64x2.madd (local.get $x) (local.get $b01) (local.get $c10)))
          (local.set $c11 (f64x2.madd (local.get $x) (local.get $b23) (local.get $c11)))
          (local.set $x (v128.load64_splat offset=16 (local.get $a)))
          (local.set $c20 (f64x2.madd (local.get $x) (local.get $b01) (local.get $c20)))
          (local.set $c21 (f64x2.madd (local.get $x) (local.get $b23) (local.get $c21)))
          (local.set $x (v128.load64_splat offset=24 (local.get $a)))
          (local.set $c30 (f64x2.madd (local.get $x) (local.get $b01) (local.get $c30)))
          (local.set $c31 (f64x2.madd (local.get $x) (local.get $b23) (local.get $c31)))
          (local.set $a (i32.add (local.get $a) (i32.const 32)))
          (local.set $b (i32.add (local.get $b) (i32.const 32)))
          (br_if $k (i32.lt_u (local.get $a) (local.get $end))))))
    (v128.store (local.get $c) (f64x2.add (v128.load (local.get $c)) (local.get $c00)))
    (v128.store offset=16 (local.get $c) (f64x2.add (v128.load offset=16 (local.get $c)) (local.get $c01)))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (v128.store (local.get $c) (f64x2.add (v128.load (local.get $c)) (local.get $c10)))
    (v128.store offset=16 (local.get $c) (f64x2.add (v128.load offset=16 (local.get $c)) (local.get $c11)))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (v128.store (local.get $c) (f64x2.add (v128.load (local.get $c)) (local.get $c20)))
    (v128.store offset=16 (local.get $c) (f64x2.add (v128.load offset=16 (local.get $c)) (local.get $c21)))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (v128.store (local.get $c) (f64x2.add (v128.load (local.get $c)) (local.get $c30)))
    (v128.store offset=16 (local.get $c) (f64x2.add (v128.load offset=16 (local.get $c)) (local.get $c31))))

  ;; Kernels.panelProducts: for pi in [pi0, pi1), pj in [max(pi, pj0), pj1): block (pi, pj).
  (func (export "panelProducts") (param $a i32) (param $b i32) (param $kc i32)
      (param $pi0 i32) (param $pi1 i32) (param $pj0 i32) (param $pj1 i32) (param $c i32) (param $ldc i32)
    (local $pi i32) (local $pj i32) (local $step i32) (local $crow i32)
    (local.set $step (i32.shl (local.get $kc) (i32.const 5)))
    (local.set $pi (local.get $pi0))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_s (local.get $pi) (local.get $pi1)))
        (local.set $crow (i32.add (local.get $c) (i32.mul (i32.shl (local.get $pi) (i32.const 2)) (local.get $ldc))))
        (local.set $pj (select (local.get $pi) (local.get $pj0) (i32.gt_s (local.get $pi) (local.get $pj0))))
        (block $rowdone
          (loop $cols
            (br_if $rowdone (i32.ge_s (local.get $pj) (local.get $pj1)))
            (call $block4x4
              (i32.add (local.get $a) (i32.mul (local.get $pi) (local.get $step)))
              (i32.add (local.get $b) (i32.mul (local.get $pj) (local.get $step)))
              (local.get $kc)
              (i32.add (local.get $crow) (i32.shl (local.get $pj) (i32.const 5)))
              (local.get $ldc))
            (local.set $pj (i32.add (local.get $pj) (i32.const 1)))
            (br $cols)))
        (local.set $pi (i32.add (local.get $pi) (i32.const 1)))
        (br $rows))))

;; Kernels.symvUpper: y = A x for the symmetric m×m A whose upper triangle is at $a (row stride
  ;; $lda bytes). Rows go in pairs; each row of the triangle is read once and used twice: as a dot
  ;; product with x for y[i], and as an axpy into y[j > i] for the mirrored column. Pairing the rows
  ;; halves the traffic on x and y, so the loop runs at the speed the matrix streams in.
  (func (export "symvUpper") (param $a i32) (param $lda i32) (param $m i32) (param $x i32) (param $y i32)
    (local $i i32) (local $j i32) (local $r0 i32) (local $r1 i32) (local $x0 f64) (local $x1 f64)
    (local $xs0 v128) (local $xs1 v128) (local $d0 v128) (local $d1 v128) (local $a0 v128) (local $a1 v128)
    (local $xv v128) (local $q i32) (local $t f64) (local $u f64) (local $dot0 f64) (local $dot1 f64) (local $end2 i32)
    (memory.fill (local.get $y) (i32.const 0) (i32.shl (local.get $m) (i32.const 3)))
    (local.set $i (i32.const 0))
    (block $done (loop $rows
      (br_if $done (i32.ge_s (local.get $i) (local.get $m)))
      (local.set $r0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $lda))))
      (local.set $x0 (f64.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 3)))))
      (if (i32.eq (i32.add (local.get $i) (i32.const 1)) (local.get $m))
        (then
          ;; the last row alone: only its diagonal
          (local.set $q (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 3))))
          (f64.store (local.get $q) (f64.add (f64.load (local.get $q))
            (f64.mul (f64.load (i32.add (local.get $r0) (i32.shl (local.get $i) (i32.const 3)))) (local.get $x0))))
          (br $done)))
      (local.set $r1 (i32.add (local.get $r0) (local.get $lda)))
      (local.set $x1 (f64.load offset=8 (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 3)))))
      (local.set $xs0 (f64x2.splat (local.get $x0)))
      (local.set $xs1 (f64x2.splat (local.get $x1)))
      ;; the 2×2 diagonal block [a_ii a_i,i+1; a_i,i+1 a_i+1,i+1]
      (local.set $t (f64.load (i32.add (local.get $r0) (i32.shl (i32.add (local.get $i) (i32.const 1)) (i32.const 3)))))
      (local.set $dot0 (f64.add
        (f64.mul (f64.load (i32.add (local.get $r0) (i32.shl (local.get $i) (i32.const 3)))) (local.get $x0))
        (f64.mul (local.get $t) (local.get $x1))))
      (local.set $dot1 (f64.add
        (f64.mul (local.get $t) (local.get $x0))
        (f64.mul (f64.load (i32.add (local.get $r1) (i32.shl (i32.add (local.get $i) (i32.const 1)) (i32.const 3)))) (local.get $x1))))
      (local.set $d0 (v128.const f64x2 0 0))
      (local.set $d1 (v128.const f64x2 0 0))
      (local.set $j (i32.add (local.get $i) (i32.const 2)))
      (local.set $end2 (i32.sub (local.get $m) (i32.const 1)))
      ;; two columns per step for both rows
      (block $v2 (loop $l2
        (br_if $v2 (i32.ge_s (local.get $j) (local.get $end2)))
        (local.set $q (i32.shl (local.get $j) (i32.const 3)))
        (local.set $a0 (v128.load (i32.add (local.get $r0) (local.get $q))))
        (local.set $a1 (v128.load (i32.add (local.get $r1) (local.get $q))))
        (local.set $xv (v128.load (i32.add (local.get $x) (local.get $q))))
        (local.set $d0 (f64x2.add (local.get $d0) (f64x2.mul (local.get $a0) (local.get $xv))))
        (local.set $d1 (f64x2.add (local.get $d1) (f64x2.mul (local.get $a1) (local.get $xv))))
        (local.set $q (i32.add (local.get $y) (local.get $q)))
        (v128.store (local.get $q) (f64x2.add (v128.load (local.get $q))
          (f64x2.madd (local.get $a1) (local.get $xs1) (f64x2.mul (local.get $a0) (local.get $xs0)))))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (br $l2)))
      ;; at most one column left
      (if (i32.lt_s (local.get $j) (local.get $m))
        (then
          (local.set $q (i32.shl (local.get $j) (i32.const 3)))
          (local.set $t (f64.load (i32.add (local.get $r0) (local.get $q))))
          (local.set $u (f64.load (i32.add (local.get $r1) (local.get $q))))
          (local.set $dot0 (f64.add (local.get $dot0) (f64.mul (local.get $t) (f64.load (i32.add (local.get $x) (local.get $q))))))
          (local.set $dot1 (f64.add (local.get $dot1) (f64.mul (local.get $u) (f64.load (i32.add (local.get $x) (local.get $q))))))
          (local.set $q (i32.add (local.get $y) (local.get $q)))
          (f64.store (local.get $q) (f64.add (f64.load (local.get $q))
            (f64.add (f64.mul (local.get $t) (local.get $x0)) (f64.mul (local.get $u) (local.get $x1)))))))
      (local.set $q (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 3))))
      (f64.store (local.get $q) (f64.add (f64.load (local.get $q))
        (f64.add (local.get $dot0) (f64.add (f64x2.extract_lane 0 (local.get $d0)) (f64x2.extract_lane 1 (local.get $d0))))))
      (f64.store offset=8 (local.get $q) (f64.add (f64.load offset=8 (local.get $q))
        (f64.add (local.get $dot1) (f64.add (f64x2.extract_lane 0 (local.get $d1)) (f64x2.extract_lane 1 (local.get $d1))))))
      (local.set $i (i32.add (local.get $i) (i32.const 2)))
      (br $rows))))

  ;; Kernels.dots: out[c] = Σ_t Z(t, c) x[t], column c at $z + c·$ldz (bytes), $len rows.
  (func (export "dots") (param $z i32) (param $ldz i32) (param $ncols i32) (param $x i32) (param $len i32) (param $out i32)
    (local $c i32) (local $t i32) (local $col i32) (local $acc0 v128) (local $acc1 v128) (local $s f64) (local $q i32) (local $end4 i32)
    (local.set $end4 (i32.sub (local.get $len) (i32.const 3)))
    (block $done (loop $cols
      (br_if $done (i32.ge_s (local.get $c) (local.get $ncols)))
      (local.set $col (i32.add (local.get $z) (i32.mul (local.get $c) (local.get $ldz))))
      (local.set $acc0 (v128.const f64x2 0 0))
      (local.set $acc1 (v128.const f64x2 0 0))
      (local.set $s (f64.const 0))
      (local.set $t (i32.const 0))
      (block $v4 (loop $l4
        (br_if $v4 (i32.ge_s (local.get $t) (local.get $end4)))
        (local.set $q (i32.shl (local.get $t) (i32.const 3)))
        (local.set $acc0 (f64x2.add (local.get $acc0) (f64x2.mul (v128.load (i32.add (local.get $col) (local.get $q))) (v128.load (i32.add (local.get $x) (local.get $q))))))
        (local.set $acc1 (f64x2.add (local.get $acc1) (f64x2.mul (v128.load offset=16 (i32.add (local.get $col) (local.get $q))) (v128.load offset=16 (i32.add (local.get $x) (local.get $q))))))
        (local.set $t (i32.add (local.get $t) (i32.const 4)))
        (br $l4)))
      (block $v1 (loop $l1
        (br_if $v1 (i32.ge_s (local.get $t) (local.get $len)))
        (local.set $q (i32.shl (local.get $t) (i32.const 3)))
        (local.set $s (f64.add (local.get $s) (f64.mul (f64.load (i32.add (local.get $col) (local.get $q))) (f64.load (i32.add (local.get $x) (local.get $q))))))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $l1)))
      (local.set $acc0 (f64x2.add (local.get $acc0) (local.get $acc1)))
      (f64.store (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 3)))
        (f64.add (local.get $s) (f64.add (f64x2.extract_lane 0 (local.get $acc0)) (f64x2.extract_lane 1 (local.get $acc0)))))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br $cols))))

  ;; Kernels.subtractColumns: y[t] −= Σ_c Z(t, c) coef[c].
  (func (export "subtractColumns") (param $z i32) (param $ldz i32) (param $ncols i32) (param $coef i32) (param $y i32) (param $len i32)
    (local $c i32) (local $t i32) (local $col i32) (local $f f64) (local $fs v128) (local $q i32) (local $p i32) (local $end4 i32)
    (local.set $end4 (i32.sub (local.get $len) (i32.const 3)))
    (block $done (loop $cols
      (br_if $done (i32.ge_s (local.get $c) (local.get $ncols)))
      (local.set $col (i32.add (local.get $z) (i32.mul (local.get $c) (local.get $ldz))))
      (local.set $f (f64.load (i32.add (local.get $coef) (i32.shl (local.get $c) (i32.const 3)))))
      (local.set $fs (f64x2.splat (local.get $f)))
      (local.set $t (i32.const 0))
      (block $v4 (loop $l4
        (br_if $v4 (i32.ge_s (local.get $t) (local.get $end4)))
        (local.set $q (i32.shl (local.get $t) (i32.const 3)))
        (local.set $p (i32.add (local.get $y) (local.get $q)))
        (local.set $q (i32.add (local.get $col) (local.get $q)))
        (v128.store (local.get $p) (f64x2.sub (v128.load (local.get $p)) (f64x2.mul (v128.load (local.get $q)) (local.get $fs))))
        (v128.store offset=16 (local.get $p) (f64x2.sub (v128.load offset=16 (local.get $p)) (f64x2.mul (v128.load offset=16 (local.get $q)) (local.get $fs))))
        (local.set $t (i32.add (local.get $t) (i32.const 4)))
        (br $l4)))
      (block $v1 (loop $l1
        (br_if $v1 (i32.ge_s (local.get $t) (local.get $len)))
        (local.set $q (i32.shl (local.get $t) (i32.const 3)))
        (local.set $p (i32.add (local.get $y) (local.get $q)))
        (f64.store (local.get $p) (f64.sub (f64.load (local.get $p)) (f64.mul (f64.load (i32.add (local.get $col) (local.get $q))) (local.get $f))))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $l1)))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br $cols))))
)
