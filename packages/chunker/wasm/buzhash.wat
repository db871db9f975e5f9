;; casync's buzhash boundary scan (see boundary-scanner.ts for the TypeScript original).
;; Embedded as base64 in src/buzhash-wasm.ts; a test rebuilds it with wabt and compares.
(module
  (memory (export "memory") 1)
  (global $H (export "h") (mut i32) (i32.const 0))
  ;; Tables: T at 0, TABLE_OUT at 1024 (256 i32 each); data from 2048 on.
  ;; Scans positions i .. stop-1 (absolute addresses; the window is [i-48, i)).
  ;; Returns the address after the cut byte, or -1; the hash is left in $H.
  ;; The cut test: (h mod d) == d - 1 as a divisibility test of h + 1 (multiply, rotate).
  (func (export "scan") (param $i i32) (param $stop i32) (param $h i32)
        (param $inv i32) (param $shift i32) (param $lim i32) (result i32)
    (local $w i32) (local $last i32)
    ;; 8 bytes per iteration while they fit: one loop test and one address computation per
    ;; 8 bytes instead of per byte (~10% faster). The two table terms are xor-ed first, so
    ;; the hash's own dependency chain is a rotate and one xor.
    (local.set $last (i32.sub (local.get $stop) (i32.const 7)))
    (block $out8
      (loop $l8
        (br_if $out8 (i32.ge_s (local.get $i) (local.get $last)))
        (local.set $w (i32.sub (local.get $i) (i32.const 48)))
        (local.set $h
          (i32.xor
            (i32.rotl (local.get $h) (i32.const 1))
            (i32.xor
              (i32.load offset=1024 (i32.shl (i32.load8_u offset=0 (local.get $w)) (i32.const 2)))
              (i32.load (i32.shl (i32.load8_u offset=0 (local.get $i)) (i32.const 2))))))
        (if (i32.le_u
              (i32.rotr (i32.mul (i32.add (local.get $h) (i32.const 1)) (local.get $inv)) (local.get $shift))
              (local.get $lim))
          (then
            (global.set $H (local.get $h))
            (return (i32.add (local.get $i) (i32.const 1)))))
        (local.set $h
          (i32.xor
            (i32.rotl (local.get $h) (i32.const 1))
            (i32.xor
              (i32.load offset=1024 (i32.shl (i32.load8_u offset=1 (local.get $w)) (i32.const 2)))
              (i32.load (i32.shl (i32.load8_u offset=1 (local.get $i)) (i32.const 2))))))
        (if (i32.le_u
              (i32.rotr (i32.mul (i32.add (local.get $h) (i32.const 1)) (local.get $inv)) (local.get $shift))
              (local.get $lim))
          (then
            (global.set $H (local.get $h))
            (return (i32.add (local.get $i) (i32.const 2)))))
        (local.set $h
          (i32.xor
            (i32.rotl (local.get $h) (i32.const 1))
            (i32.xor
              (i32.load offset=1024 (i32.shl (i32.load8_u offset=2 (local.get $w)) (i32.const 2)))
              (i32.load (i32.shl (i32.load8_u offset=2 (local.get $i)) (i32.const 2))))))
        (if (i32.le_u
              (i32.rotr (i32.mul (i32.add (local.get $h) (i32.const 1)) (local.get $inv)) (local.get $shift))
              (local.get $lim))
          (then
            (global.set $H (local.get $h))
            (return (i32.add (local.get $i) (i32.const 3)))))
        (local.set $h
          (i32.xor
            (i32.rotl (local.get $h) (i32.const 1))
            (i32.xor
              (i32.load offset=1024 (i32.shl (i32.load8_u offset=3 (local.get $w)) (i32.const 2)))
              (i32.load (i32.shl (i32.load8_u offset=3 (local.get $i)) (i32.const 2))))))
        (if (i32.le_u
              (i32.rotr (i32.mul (i32.add (local.get $h) (i32.const 1)) (local.get $inv)) (local.get $shift))
              (local.get $lim))
          (then
            (global.set $H (local.get $h))
            (return (i32.add (local.get $i) (i32.const 4)))))
        (local.set $h
          (i32.xor
            (i32.rotl (local.get $h) (i32.const 1))
            (i32.xor
              (i32.load offset=1024 (i32.shl (i32.load8_u offset=4 (local.get $w)) (i32.const 2)))
              (i32.load (i32.shl (i32.load8_u offset=4 (local.get $i)) (i32.const 2))))))
        (if (i32.le_u
              (i32.rotr (i32.mul (i32.add (local.get $h) (i32.const 1)) (local.get $inv)) (local.get $shift))
              (local.get $lim))
          (then
            (global.set $H (local.get $h))
            (return (i32.add (local.get $i) (i32.const 5)))))
        (local.set $h
          (i32.xor
            (i32.rotl (local.get $h) (i32.const 1))
            (i32.xor
              (i32.load offset=1024 (i32.shl (i32.load8_u offset=5 (local.get $w)) (i32.const 2)))
              (i32.load (i32.shl (i32.load8_u offset=5 (local.get $i)) (i32.const 2))))))
        (if (i32.le_u
              (i32.rotr (i32.mul (i32.add (local.get $h) (i32.const 1)) (local.get $inv)) (local.get $shift))
              (local.get $lim))
          (then
            (global.set $H (local.get $h))
            (return (i32.add (local.get $i) (i32.const 6)))))
        (local.set $h
          (i32.xor
            (i32.rotl (local.get $h) (i32.const 1))
            (i32.xor
              (i32.load offset=1024 (i32.shl (i32.load8_u offset=6 (local.get $w)) (i32.const 2)))
              (i32.load (i32.shl (i32.load8_u offset=6 (local.get $i)) (i32.const 2))))))
        (if (i32.le_u
              (i32.rotr (i32.mul (i32.add (local.get $h) (i32.const 1)) (local.get $inv)) (local.get $shift))
              (local.get $lim))
          (then
            (global.set $H (local.get $h))
            (return (i32.add (local.get $i) (i32.const 7)))))
        (local.set $h
          (i32.xor
            (i32.rotl (local.get $h) (i32.const 1))
            (i32.xor
              (i32.load offset=1024 (i32.shl (i32.load8_u offset=7 (local.get $w)) (i32.const 2)))
              (i32.load (i32.shl (i32.load8_u offset=7 (local.get $i)) (i32.const 2))))))
        (if (i32.le_u
              (i32.rotr (i32.mul (i32.add (local.get $h) (i32.const 1)) (local.get $inv)) (local.get $shift))
              (local.get $lim))
          (then
            (global.set $H (local.get $h))
            (return (i32.add (local.get $i) (i32.const 8)))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $l8)))
    ;; The last few bytes, one at a time.
    (block $out
      (loop $l
        (br_if $out (i32.ge_u (local.get $i) (local.get $stop)))
        (local.set $h
          (i32.xor
            (i32.rotl (local.get $h) (i32.const 1))
            (i32.xor
              (i32.load offset=1024
                (i32.shl (i32.load8_u (i32.sub (local.get $i) (i32.const 48))) (i32.const 2)))
              (i32.load (i32.shl (i32.load8_u (local.get $i)) (i32.const 2))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (if (i32.le_u
              (i32.rotr (i32.mul (i32.add (local.get $h) (i32.const 1)) (local.get $inv)) (local.get $shift))
              (local.get $lim))
          (then
            (global.set $H (local.get $h))
            (return (local.get $i))))
        (br $l)))
    (global.set $H (local.get $h))
    (i32.const -1)))
