(module
  (memory (export "memory") 1)
  (global $H (export "h") (mut i32) (i32.const 0))
  ;; Tables: T at 0, TABLE_OUT at 1024 (256 i32 each); data from 2048 on.
  ;; Scans positions i .. stop-1 (absolute addresses; the window is [i-48, i)).
  ;; Returns the address after the cut byte, or -1; the hash is left in $H.
  (func (export "scan") (param $i i32) (param $stop i32) (param $h i32)
        (param $inv i32) (param $shift i32) (param $lim i32) (result i32)
    (block $out
      (loop $l
        (br_if $out (i32.ge_u (local.get $i) (local.get $stop)))
        (local.set $h
          (i32.xor
            (i32.xor
              (i32.rotl (local.get $h) (i32.const 1))
              (i32.load offset=1024
                (i32.shl (i32.load8_u (i32.sub (local.get $i) (i32.const 48))) (i32.const 2))))
            (i32.load (i32.shl (i32.load8_u (local.get $i)) (i32.const 2)))))
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
