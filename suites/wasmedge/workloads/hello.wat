;; WASI `fd_write` of "hello\n" to stdout, then return: start-up plus one host call.
;; Only wasi_snapshot_preview1 is imported, so every WASI runtime can run it.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; iovec at 0: {buf = 16, len = 6}; the text at 16; nwritten lands at 8.
  (data (i32.const 0) "\10\00\00\00\06\00\00\00")
  (data (i32.const 16) "hello\0a")
  (func (export "_start")
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
