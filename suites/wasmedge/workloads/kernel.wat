;; A CPU-bound loop of fixed work, callable in-process without a C toolchain:
;; kernel(n) runs n rounds of a 32-bit xorshift and returns the final state.
;; The result depends on every round, so no engine can skip the work.
(module
  (memory (export "memory") 1)
  (func (export "kernel") (param $n i32) (result i32)
    (local $x i32)
    (local.set $x (i32.const 2463534242))
    (block $done
      (loop $round
        (br_if $done (i32.le_s (local.get $n) (i32.const 0)))
        (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 13))))
        (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 17))))
        (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 5))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $round)))
    (local.get $x)))
