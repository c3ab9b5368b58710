;; advtest's SIMD kernels for the tfjs wasm backend (issue 21): the gradient kernels that were JS
;; loops over the wasm heap, on one core. The module imports tfjs's own memory, so the kernels read
;; dy / x and write their output in place, with no copies.
;;
;; Source of src/backend/simd-kernels-wasm.ts: edit here, then `npm run build:simd` (which
;; assembles this file with wabt twice: the memory import as written, shared with tfjs's 4 GiB
;; maximum, for the pthread build, and unshared with no maximum for the single-thread builds).
;; test/backend/simd-kernels.test.ts fails when the two disagree.
;;
;; Pointers are byte offsets into the memory; sizes are element counts. All loops count up to a
;; bound with unsigned compares, so heaps past 2 GiB work.
(module
  (import "env" "memory" (memory 1 65536 shared)) ;; MEMORY

  ;; out = dy · (lo < x ≤ hi ? 1 : 0), and NaN where x is NaN: tfjs's dy·step(x) for Relu and Relu6
  ;; (dy·0 keeps dy's sign and turns ±Infinity into NaN, as tfjs's multiply does). lo and hi are
  ;; float32 thresholds the caller rounded so that float32 compares equal the float64 ones.
  (func (export "relu_grad")
    (param $dy i32) (param $x i32) (param $out i32) (param $n i32) (param $lo f32) (param $hi f32)
    (local $i i32) (local $n4 i32) (local $off i32)
    (local $vlo v128) (local $vhi v128) (local $v v128) (local $s f32)
    (local.set $vlo (f32x4.splat (local.get $lo)))
    (local.set $vhi (f32x4.splat (local.get $hi)))
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n4)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (local.set $v (v128.load (i32.add (local.get $x) (local.get $off))))
        (v128.store (i32.add (local.get $out) (local.get $off))
          (v128.bitselect
            (v128.const i32x4 0x7fc00000 0x7fc00000 0x7fc00000 0x7fc00000)
            (f32x4.mul
              (v128.load (i32.add (local.get $dy) (local.get $off)))
              (v128.and
                (v128.and (f32x4.gt (local.get $v) (local.get $vlo)) (f32x4.le (local.get $v) (local.get $vhi)))
                (v128.const f32x4 1 1 1 1)))
            (f32x4.ne (local.get $v) (local.get $v))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (local.set $s (f32.load (i32.add (local.get $x) (local.get $off))))
        (f32.store (i32.add (local.get $out) (local.get $off))
          (select
            (f32.reinterpret_i32 (i32.const 0x7fc00000))
            (f32.mul
              (f32.load (i32.add (local.get $dy) (local.get $off)))
              (select (f32.const 1) (f32.const 0)
                (i32.and (f32.gt (local.get $s) (local.get $lo)) (f32.le (local.get $s) (local.get $hi)))))
            (f32.ne (local.get $s) (local.get $s))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; out = lo ≤ x ≤ hi ? dy : 0 (NaN x: 0): tfjs's ClipByValue gradient.
  (func (export "clip_grad")
    (param $dy i32) (param $x i32) (param $out i32) (param $n i32) (param $lo f32) (param $hi f32)
    (local $i i32) (local $n4 i32) (local $off i32)
    (local $vlo v128) (local $vhi v128) (local $v v128) (local $s f32)
    (local.set $vlo (f32x4.splat (local.get $lo)))
    (local.set $vhi (f32x4.splat (local.get $hi)))
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n4)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (local.set $v (v128.load (i32.add (local.get $x) (local.get $off))))
        (v128.store (i32.add (local.get $out) (local.get $off))
          (v128.and
            (v128.load (i32.add (local.get $dy) (local.get $off)))
            (v128.and (f32x4.ge (local.get $v) (local.get $vlo)) (f32x4.le (local.get $v) (local.get $vhi)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (local.set $s (f32.load (i32.add (local.get $x) (local.get $off))))
        (f32.store (i32.add (local.get $out) (local.get $off))
          (select
            (f32.load (i32.add (local.get $dy) (local.get $off)))
            (f32.const 0)
            (i32.and (f32.ge (local.get $s) (local.get $lo)) (f32.le (local.get $s) (local.get $hi)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; out = max(x, 0): tfjs's wasm Relu (NaN stays NaN, -0 gives +0; f32x4.max does both).
  (func (export "relu")
    (param $x i32) (param $out i32) (param $n i32)
    (local $i i32) (local $n4 i32) (local $off i32)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n4)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (v128.store (i32.add (local.get $out) (local.get $off))
          (f32x4.max (v128.load (i32.add (local.get $x) (local.get $off))) (v128.const f32x4 0 0 0 0)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (f32.store (i32.add (local.get $out) (local.get $off))
          (f32.max (f32.load (i32.add (local.get $x) (local.get $off))) (f32.const 0)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; out = (y < hi ? y : hi) with y = (lo < x ? x : lo): tfjs's wasm Relu6 (lo 0, hi 6) and
  ;; ClipByValue, special values included (NaN gives lo, -0 with lo = 0 gives +0): f32x4.pmax(lo, x)
  ;; and f32x4.pmin(hi, y) are exactly these selects.
  (func (export "clamp")
    (param $x i32) (param $out i32) (param $n i32) (param $lo f32) (param $hi f32)
    (local $i i32) (local $n4 i32) (local $off i32)
    (local $vlo v128) (local $vhi v128) (local $s f32)
    (local.set $vlo (f32x4.splat (local.get $lo)))
    (local.set $vhi (f32x4.splat (local.get $hi)))
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n4)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (v128.store (i32.add (local.get $out) (local.get $off))
          (f32x4.pmin (local.get $vhi) (f32x4.pmax (local.get $vlo) (v128.load (i32.add (local.get $x) (local.get $off))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (local.set $s (f32.load (i32.add (local.get $x) (local.get $off))))
        (local.set $s (select (local.get $s) (local.get $lo) (f32.lt (local.get $lo) (local.get $s))))
        (f32.store (i32.add (local.get $out) (local.get $off))
          (select (local.get $s) (local.get $hi) (f32.lt (local.get $s) (local.get $hi))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; One Adam step of one variable, tfjs's AdamOptimizer operation for operation in float32 (the
  ;; same products, sums and their grouping, so the same bits): m2 = m·b1 + g·(1−b1),
  ;; v2 = v·b2 + g²·(1−b2), w2 = (m2/c1) / (√(v2/c2) + eps) · (−lr) + w, with c1 = 1 − b1^t and
  ;; c2 = 1 − b2^t. The caller passes every constant rounded to float32 as tfjs's scalars are.
  (func (export "adam")
    (param $w i32) (param $g i32) (param $m i32) (param $v i32)
    (param $w2 i32) (param $m2 i32) (param $v2 i32) (param $n i32)
    (param $b1 f32) (param $omb1 f32) (param $b2 f32) (param $omb2 f32)
    (param $c1 f32) (param $c2 f32) (param $eps f32) (param $nlr f32)
    (local $i i32) (local $n4 i32) (local $off i32)
    (local $vb1 v128) (local $vomb1 v128) (local $vb2 v128) (local $vomb2 v128)
    (local $vc1 v128) (local $vc2 v128) (local $veps v128) (local $vnlr v128)
    (local $gv v128) (local $mv v128) (local $vv v128)
    (local $gs f32) (local $ms f32) (local $vs f32)
    (local.set $vb1 (f32x4.splat (local.get $b1)))
    (local.set $vomb1 (f32x4.splat (local.get $omb1)))
    (local.set $vb2 (f32x4.splat (local.get $b2)))
    (local.set $vomb2 (f32x4.splat (local.get $omb2)))
    (local.set $vc1 (f32x4.splat (local.get $c1)))
    (local.set $vc2 (f32x4.splat (local.get $c2)))
    (local.set $veps (f32x4.splat (local.get $eps)))
    (local.set $vnlr (f32x4.splat (local.get $nlr)))
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n4)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (local.set $gv (v128.load (i32.add (local.get $g) (local.get $off))))
        (local.set $mv
          (f32x4.add
            (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $off))) (local.get $vb1))
            (f32x4.mul (local.get $gv) (local.get $vomb1))))
        (local.set $vv
          (f32x4.add
            (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $off))) (local.get $vb2))
            (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (local.get $vomb2))))
        (v128.store (i32.add (local.get $m2) (local.get $off)) (local.get $mv))
        (v128.store (i32.add (local.get $v2) (local.get $off)) (local.get $vv))
        (v128.store (i32.add (local.get $w2) (local.get $off))
          (f32x4.add
            (f32x4.mul
              (f32x4.div
                (f32x4.div (local.get $mv) (local.get $vc1))
                (f32x4.add (f32x4.sqrt (f32x4.div (local.get $vv) (local.get $vc2))) (local.get $veps)))
              (local.get $vnlr))
            (v128.load (i32.add (local.get $w) (local.get $off)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (local.set $gs (f32.load (i32.add (local.get $g) (local.get $off))))
        (local.set $ms
          (f32.add
            (f32.mul (f32.load (i32.add (local.get $m) (local.get $off))) (local.get $b1))
            (f32.mul (local.get $gs) (local.get $omb1))))
        (local.set $vs
          (f32.add
            (f32.mul (f32.load (i32.add (local.get $v) (local.get $off))) (local.get $b2))
            (f32.mul (f32.mul (local.get $gs) (local.get $gs)) (local.get $omb2))))
        (f32.store (i32.add (local.get $m2) (local.get $off)) (local.get $ms))
        (f32.store (i32.add (local.get $v2) (local.get $off)) (local.get $vs))
        (f32.store (i32.add (local.get $w2) (local.get $off))
          (f32.add
            (f32.mul
              (f32.div
                (f32.div (local.get $ms) (local.get $c1))
                (f32.add (f32.sqrt (f32.div (local.get $vs) (local.get $c2))) (local.get $eps)))
              (local.get $nlr))
            (f32.load (i32.add (local.get $w) (local.get $off)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; MaxPoolGrad, NHWC, tfjs's cpu semantics bit for bit: each window's dy goes to the first
  ;; position (row-major) holding the window's maximum; -Infinity and NaN never win; windows
  ;; are visited in output order, so an input in several windows sums their dy in the cpu
  ;; kernel's order, starting from +0 (a selected -0 gives +0, as 0 + (-0) does there).
  ;; The cpu kernel sums in float64 and rounds once: with overlapping windows the caller passes
  ;; $acc, a float64 scratch of x's element count, where the sums are made before rounding into
  ;; dx; with $acc = 0 (windows that do not overlap: one term per input) dx takes the sums.
  ;; Per output pixel and 4 channels: a pass over the window finds each lane's winner (k, the
  ;; window position), a second pass adds dy masked to the lanes whose winner it is.
  (func (export "max_pool_grad")
    (param $x i32) (param $dy i32) (param $dx i32) (param $acc i32)
    (param $n i32) (param $h i32) (param $w i32) (param $ch i32)
    (param $oh i32) (param $ow i32) (param $fh i32) (param $fw i32)
    (param $sh i32) (param $sw i32) (param $pt i32) (param $pl i32)
    (local $b i32) (local $yr i32) (local $yc i32)
    (local $r0 i32) (local $rs i32) (local $re i32) (local $c0 i32) (local $cs i32) (local $ce i32)
    (local $r i32) (local $c i32) (local $k i32) (local $d i32)
    (local $pix i32) (local $row i32) (local $chBytes i32) (local $ch4Bytes i32)
    (local $base i32) (local $rowp i32) (local $p i32) (local $dyp i32) (local $q i32)
    (local $best v128) (local $arg v128) (local $v v128) (local $g v128) (local $gy v128)
    (local $sbest f32) (local $sarg i32) (local $sv f32) (local $total i32) (local $i i32) (local $fast2 i32)
    (local.set $pix (i32.shl (local.get $ch) (i32.const 2)))
    (local.set $row (i32.mul (local.get $w) (local.get $pix)))
    (local.set $chBytes (local.get $pix))
    (local.set $ch4Bytes (i32.shl (i32.and (local.get $ch) (i32.const -4)) (i32.const 2)))
    (local.set $fast2
      (i32.and (i32.eqz (local.get $acc)) (i32.and (i32.eq (local.get $fh) (i32.const 2)) (i32.eq (local.get $fw) (i32.const 2)))))
    (local.set $total (i32.mul (i32.mul (i32.mul (local.get $n) (local.get $h)) (local.get $w)) (local.get $ch)))
    (if (local.get $acc)
      (then (memory.fill (local.get $acc) (i32.const 0) (i32.shl (local.get $total) (i32.const 3))))
      (else
        ;; 2×2 windows that tile x exactly (stride 2, no padding, even sides) store every dx
        ;; element when the channels come in fours (the one-channel tail only adds to the winner):
        ;; no need to clear dx first (a third of the kernel's memory traffic)
        (if (i32.eqz (i32.and (i32.and (local.get $fast2) (i32.eq (local.get $ch4Bytes) (local.get $chBytes)))
              (i32.and
                (i32.and (i32.eq (local.get $sh) (i32.const 2)) (i32.eq (local.get $sw) (i32.const 2)))
                (i32.and
                  (i32.and (i32.eqz (local.get $pt)) (i32.eqz (local.get $pl)))
                  (i32.and (i32.eq (i32.shl (local.get $oh) (i32.const 1)) (local.get $h))
                           (i32.eq (i32.shl (local.get $ow) (i32.const 1)) (local.get $w)))))))
          (then (memory.fill (local.get $dx) (i32.const 0) (i32.shl (local.get $total) (i32.const 2)))))))
    (local.set $dyp (local.get $dy))
    (local.set $b (i32.const 0))
    (block $bDone (loop $bNext
      (br_if $bDone (i32.ge_u (local.get $b) (local.get $n)))
      (local.set $yr (i32.const 0))
      (block $yrDone (loop $yrNext
        (br_if $yrDone (i32.ge_u (local.get $yr) (local.get $oh)))
        (local.set $r0 (i32.sub (i32.mul (local.get $yr) (local.get $sh)) (local.get $pt)))
        (local.set $rs (select (local.get $r0) (i32.const 0) (i32.gt_s (local.get $r0) (i32.const 0))))
        (local.set $re (i32.add (local.get $r0) (local.get $fh)))
        (local.set $re (select (local.get $re) (local.get $h) (i32.lt_s (local.get $re) (local.get $h))))
        (local.set $yc (i32.const 0))
        (block $ycDone (loop $ycNext
          (br_if $ycDone (i32.ge_u (local.get $yc) (local.get $ow)))
          (local.set $c0 (i32.sub (i32.mul (local.get $yc) (local.get $sw)) (local.get $pl)))
          (local.set $cs (select (local.get $c0) (i32.const 0) (i32.gt_s (local.get $c0) (i32.const 0))))
          (local.set $ce (i32.add (local.get $c0) (local.get $fw)))
          (local.set $ce (select (local.get $ce) (local.get $w) (i32.lt_s (local.get $ce) (local.get $w))))
          ;; byte offset of (b, rs, cs, 0) in x and dx
          (local.set $base
            (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $rs)) (local.get $w)) (local.get $cs))
              (local.get $pix)))
          ;; 4 channels at a time
          (local.set $d (i32.const 0))
          (if (i32.and (local.get $fast2)
                (i32.and (i32.eq (i32.sub (local.get $re) (local.get $rs)) (i32.const 2))
                         (i32.eq (i32.sub (local.get $ce) (local.get $cs)) (i32.const 2))))
            (then
              ;; a whole 2×2 window of non-overlapping ones (the usual pooling): unrolled, and
              ;; dx stored, not summed, as 0 + masked dy (cpu's sum from +0: -0 → +0)
              (block $fDone (loop $fNext
                (br_if $fDone (i32.ge_u (local.get $d) (local.get $ch4Bytes)))
                (local.set $p (i32.add (local.get $base) (local.get $d)))
                (local.set $v (v128.load (i32.add (local.get $x) (local.get $p))))
                (local.set $g (f32x4.gt (local.get $v) (v128.const f32x4 -inf -inf -inf -inf)))
                (local.set $best (v128.bitselect (local.get $v) (v128.const f32x4 -inf -inf -inf -inf) (local.get $g)))
                (local.set $arg (v128.not (local.get $g)))
                (local.set $v (v128.load (i32.add (local.get $x) (i32.add (local.get $p) (local.get $pix)))))
                (local.set $g (f32x4.gt (local.get $v) (local.get $best)))
                (local.set $best (v128.bitselect (local.get $v) (local.get $best) (local.get $g)))
                (local.set $arg (v128.bitselect (v128.const i32x4 1 1 1 1) (local.get $arg) (local.get $g)))
                (local.set $v (v128.load (i32.add (local.get $x) (i32.add (local.get $p) (local.get $row)))))
                (local.set $g (f32x4.gt (local.get $v) (local.get $best)))
                (local.set $best (v128.bitselect (local.get $v) (local.get $best) (local.get $g)))
                (local.set $arg (v128.bitselect (v128.const i32x4 2 2 2 2) (local.get $arg) (local.get $g)))
                (local.set $v (v128.load (i32.add (local.get $x) (i32.add (local.get $p) (i32.add (local.get $row) (local.get $pix))))))
                (local.set $g (f32x4.gt (local.get $v) (local.get $best)))
                (local.set $arg (v128.bitselect (v128.const i32x4 3 3 3 3) (local.get $arg) (local.get $g)))
                (local.set $gy (v128.load (i32.add (local.get $dyp) (local.get $d))))
                (local.set $q (i32.add (local.get $dx) (local.get $p)))
                (v128.store (local.get $q)
                  (f32x4.add (v128.const f32x4 0 0 0 0)
                    (v128.and (local.get $gy) (i32x4.eq (local.get $arg) (v128.const i32x4 0 0 0 0)))))
                (v128.store (i32.add (local.get $q) (local.get $pix))
                  (f32x4.add (v128.const f32x4 0 0 0 0)
                    (v128.and (local.get $gy) (i32x4.eq (local.get $arg) (v128.const i32x4 1 1 1 1)))))
                (v128.store (i32.add (local.get $q) (local.get $row))
                  (f32x4.add (v128.const f32x4 0 0 0 0)
                    (v128.and (local.get $gy) (i32x4.eq (local.get $arg) (v128.const i32x4 2 2 2 2)))))
                (v128.store (i32.add (local.get $q) (i32.add (local.get $row) (local.get $pix)))
                  (f32x4.add (v128.const f32x4 0 0 0 0)
                    (v128.and (local.get $gy) (i32x4.eq (local.get $arg) (v128.const i32x4 3 3 3 3)))))
                (local.set $d (i32.add (local.get $d) (i32.const 16)))
                (br $fNext))))
            (else
          (block $dDone (loop $dNext
            (br_if $dDone (i32.ge_u (local.get $d) (local.get $ch4Bytes)))
            (local.set $best (v128.const f32x4 -inf -inf -inf -inf))
            (local.set $arg (v128.const i32x4 -1 -1 -1 -1))
            (local.set $k (i32.const 0))
            (local.set $rowp (i32.add (local.get $base) (local.get $d)))
            (local.set $r (local.get $rs))
            (block $rDone (loop $rNext
              (br_if $rDone (i32.ge_s (local.get $r) (local.get $re)))
              (local.set $p (local.get $rowp))
              (local.set $c (local.get $cs))
              (block $cDone (loop $cNext
                (br_if $cDone (i32.ge_s (local.get $c) (local.get $ce)))
                (local.set $v (v128.load (i32.add (local.get $x) (local.get $p))))
                (local.set $g (f32x4.gt (local.get $v) (local.get $best)))
                (local.set $best (v128.bitselect (local.get $v) (local.get $best) (local.get $g)))
                (local.set $arg (v128.bitselect (i32x4.splat (local.get $k)) (local.get $arg) (local.get $g)))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (local.set $p (i32.add (local.get $p) (local.get $pix)))
                (local.set $c (i32.add (local.get $c) (i32.const 1)))
                (br $cNext)))
              (local.set $rowp (i32.add (local.get $rowp) (local.get $row)))
              (local.set $r (i32.add (local.get $r) (i32.const 1)))
              (br $rNext)))
            (local.set $gy (v128.load (i32.add (local.get $dyp) (local.get $d))))
            (local.set $k (i32.const 0))
            (local.set $rowp (i32.add (local.get $base) (local.get $d)))
            (local.set $r (local.get $rs))
            (block $rDone (loop $rNext
              (br_if $rDone (i32.ge_s (local.get $r) (local.get $re)))
              (local.set $p (local.get $rowp))
              (local.set $c (local.get $cs))
              (block $cDone (loop $cNext
                (br_if $cDone (i32.ge_s (local.get $c) (local.get $ce)))
                (local.set $v (v128.and (local.get $gy) (i32x4.eq (local.get $arg) (i32x4.splat (local.get $k)))))
                (if (local.get $acc)
                  (then
                    ;; float64 element i sits at acc + 8i = acc + 2·(4i)
                    (local.set $q (i32.add (local.get $acc) (i32.shl (local.get $p) (i32.const 1))))
                    (v128.store (local.get $q)
                      (f64x2.add (v128.load (local.get $q)) (f64x2.promote_low_f32x4 (local.get $v))))
                    (v128.store offset=16 (local.get $q)
                      (f64x2.add (v128.load offset=16 (local.get $q))
                        (f64x2.promote_low_f32x4
                          (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v))))))
                  (else
                    (local.set $q (i32.add (local.get $dx) (local.get $p)))
                    (v128.store (local.get $q) (f32x4.add (v128.load (local.get $q)) (local.get $v)))))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (local.set $p (i32.add (local.get $p) (local.get $pix)))
                (local.set $c (i32.add (local.get $c) (i32.const 1)))
                (br $cNext)))
              (local.set $rowp (i32.add (local.get $rowp) (local.get $row)))
              (local.set $r (i32.add (local.get $r) (i32.const 1)))
              (br $rNext)))
            (local.set $d (i32.add (local.get $d) (i32.const 16)))
            (br $dNext)))))
          ;; the channels left over, one at a time (the winner's byte offset instead of k)
          (block $dDone (loop $dNext
            (br_if $dDone (i32.ge_u (local.get $d) (local.get $chBytes)))
            (local.set $sbest (f32.const -inf))
            (local.set $sarg (i32.const -1))
            (local.set $rowp (i32.add (local.get $base) (local.get $d)))
            (local.set $r (local.get $rs))
            (block $rDone (loop $rNext
              (br_if $rDone (i32.ge_s (local.get $r) (local.get $re)))
              (local.set $p (local.get $rowp))
              (local.set $c (local.get $cs))
              (block $cDone (loop $cNext
                (br_if $cDone (i32.ge_s (local.get $c) (local.get $ce)))
                (local.set $sv (f32.load (i32.add (local.get $x) (local.get $p))))
                (if (f32.gt (local.get $sv) (local.get $sbest))
                  (then
                    (local.set $sbest (local.get $sv))
                    (local.set $sarg (local.get $p))))
                (local.set $p (i32.add (local.get $p) (local.get $pix)))
                (local.set $c (i32.add (local.get $c) (i32.const 1)))
                (br $cNext)))
              (local.set $rowp (i32.add (local.get $rowp) (local.get $row)))
              (local.set $r (i32.add (local.get $r) (i32.const 1)))
              (br $rNext)))
            (if (i32.ne (local.get $sarg) (i32.const -1))
              (then
                (if (local.get $acc)
                  (then
                    (local.set $q (i32.add (local.get $acc) (i32.shl (local.get $sarg) (i32.const 1))))
                    (f64.store (local.get $q)
                      (f64.add (f64.load (local.get $q))
                        (f64.promote_f32 (f32.load (i32.add (local.get $dyp) (local.get $d)))))))
                  (else
                    (local.set $q (i32.add (local.get $dx) (local.get $sarg)))
                    (f32.store (local.get $q)
                      (f32.add (f32.load (local.get $q)) (f32.load (i32.add (local.get $dyp) (local.get $d)))))))))
            (local.set $d (i32.add (local.get $d) (i32.const 4)))
            (br $dNext)))
          (local.set $dyp (i32.add (local.get $dyp) (local.get $chBytes)))
          (local.set $yc (i32.add (local.get $yc) (i32.const 1)))
          (br $ycNext)))
        (local.set $yr (i32.add (local.get $yr) (i32.const 1)))
        (br $yrNext)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bNext)))
    ;; float64 sums → dx, rounded once
    (if (local.get $acc)
      (then
        (local.set $i (i32.const 0))
        (block $done (loop $next
          (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $total)))
          (local.set $q (i32.add (local.get $acc) (i32.shl (local.get $i) (i32.const 3))))
          (v128.store (i32.add (local.get $dx) (i32.shl (local.get $i) (i32.const 2)))
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
              (f32x4.demote_f64x2_zero (v128.load (local.get $q)))
              (f32x4.demote_f64x2_zero (v128.load offset=16 (local.get $q)))))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $next)))
        (block $done (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $total)))
          (f32.store (i32.add (local.get $dx) (i32.shl (local.get $i) (i32.const 2)))
            (f32.demote_f64 (f64.load (i32.add (local.get $acc) (i32.shl (local.get $i) (i32.const 3))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next))))))
  ;; dW[r, c, k, o] = Σ_{b,i,j} xp[b, i·sh + r, j·sw + c, k] · dy[b, i, j, o]: the filter gradient of
  ;; a convolution whose input has few channels (a first layer), where one GEMM over 9 or 27 taps
  ;; wastes most of XNNPACK's tile (issue 21). xp is the input with its padding written out (it
  ;; must hold every row and column a window reads); co is a multiple of 16. Output row by output
  ;; row: that row's dy (ow·co floats) stays in cache while every tap reads it, so dy is read once
  ;; from memory; the sums accumulate in dW, rows in order (deterministic).
  (func (export "conv_filter_grad")
    (param $xp i32) (param $dy i32) (param $out i32)
    (param $n i32) (param $hp i32) (param $wp i32) (param $ci i32)
    (param $oh i32) (param $ow i32) (param $co i32)
    (param $fh i32) (param $fw i32) (param $sh i32) (param $sw i32)
    (local $b i32) (local $i i32) (local $r i32) (local $c i32) (local $k i32) (local $kb i32) (local $j i32)
    (local $coBytes i32) (local $xstep i32) (local $dyrow i32) (local $xrow i32) (local $o i32)
    (local $xq i32) (local $dq i32) (local $q i32)
    (local $xs v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $coBytes (i32.shl (local.get $co) (i32.const 2)))
    (memory.fill (local.get $out) (i32.const 0)
      (i32.mul (i32.mul (i32.mul (local.get $fh) (local.get $fw)) (local.get $ci)) (local.get $coBytes)))
    ;; bytes from one output column's x tap to the next's
    (local.set $xstep (i32.shl (i32.mul (local.get $sw) (local.get $ci)) (i32.const 2)))
    (local.set $dyrow (local.get $dy))
    (local.set $b (i32.const 0))
    (block $bDone (loop $bNext
      (br_if $bDone (i32.ge_u (local.get $b) (local.get $n)))
      (local.set $i (i32.const 0))
      (block $iDone (loop $iNext
        (br_if $iDone (i32.ge_u (local.get $i) (local.get $oh)))
        (local.set $o (local.get $out))
        (local.set $r (i32.const 0))
        (block $rDone (loop $rNext
          (br_if $rDone (i32.ge_u (local.get $r) (local.get $fh)))
          ;; x of (b, i·sh + r, 0, 0)
          (local.set $xrow (i32.add (local.get $xp) (i32.shl
            (i32.mul (i32.mul (i32.add (i32.mul (local.get $b) (local.get $hp))
                                       (i32.add (i32.mul (local.get $i) (local.get $sh)) (local.get $r)))
                              (local.get $wp))
                     (local.get $ci))
            (i32.const 2))))
          (local.set $c (i32.const 0))
          (block $cDone (loop $cNext
            (br_if $cDone (i32.ge_u (local.get $c) (local.get $fw)))
            (local.set $k (i32.const 0))
            (block $kDone (loop $kNext
              (br_if $kDone (i32.ge_u (local.get $k) (local.get $ci)))
              ;; sixteen output channels at a time, in four accumulators
              (local.set $kb (i32.const 0))
              (block $kbDone (loop $kbNext
                (br_if $kbDone (i32.ge_u (local.get $kb) (local.get $coBytes)))
                (local.set $q (i32.add (local.get $o) (local.get $kb)))
                (local.set $a0 (v128.load offset=0 (local.get $q)))
                (local.set $a1 (v128.load offset=16 (local.get $q)))
                (local.set $a2 (v128.load offset=32 (local.get $q)))
                (local.set $a3 (v128.load offset=48 (local.get $q)))
                (local.set $xq (i32.add (local.get $xrow)
                  (i32.shl (i32.add (i32.mul (local.get $c) (local.get $ci)) (local.get $k)) (i32.const 2))))
                (local.set $dq (i32.add (local.get $dyrow) (local.get $kb)))
                (local.set $j (i32.const 0))
                (block $jDone (loop $jNext
                  (br_if $jDone (i32.ge_u (local.get $j) (local.get $ow)))
                  (local.set $xs (v128.load32_splat (local.get $xq)))
                  (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $xs) (v128.load offset=0 (local.get $dq)))))
                  (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $xs) (v128.load offset=16 (local.get $dq)))))
                  (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $xs) (v128.load offset=32 (local.get $dq)))))
                  (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $xs) (v128.load offset=48 (local.get $dq)))))
                  (local.set $xq (i32.add (local.get $xq) (local.get $xstep)))
                  (local.set $dq (i32.add (local.get $dq) (local.get $coBytes)))
                  (local.set $j (i32.add (local.get $j) (i32.const 1)))
                  (br $jNext)))
                (v128.store offset=0 (local.get $q) (local.get $a0))
                (v128.store offset=16 (local.get $q) (local.get $a1))
                (v128.store offset=32 (local.get $q) (local.get $a2))
                (v128.store offset=48 (local.get $q) (local.get $a3))
                (local.set $kb (i32.add (local.get $kb) (i32.const 64)))
                (br $kbNext)))
              (local.set $o (i32.add (local.get $o) (local.get $coBytes)))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (br $kNext)))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $cNext)))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br $rNext)))
        (local.set $dyrow (i32.add (local.get $dyrow) (i32.mul (local.get $ow) (local.get $coBytes))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $iNext)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bNext))))
)
