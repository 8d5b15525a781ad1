;; Runaway behaviour on purpose, to prove that limits stop a module.
;; grow(pages) adds memory one page at a time and traps (`unreachable`) when a page is refused,
;; as a C program aborts when malloc fails; it returns the final size in pages.
;; spin() never returns. `_start` spins too, so a CLI run of this file is also runaway.
(module
  (memory (export "memory") 1)
  (func $grow (export "grow") (param $pages i32) (result i32)
    (block $done
      (loop $page
        (br_if $done (i32.le_s (local.get $pages) (i32.const 0)))
        (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1))
          (then unreachable))
        (local.set $pages (i32.sub (local.get $pages) (i32.const 1)))
        (br $page)))
    (memory.size))
  (func $spin (export "spin")
    (loop $forever (br $forever)))
  (func (export "_start")
    (call $spin)))
