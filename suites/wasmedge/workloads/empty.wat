;; The smallest WASI command: `_start` returns at once. Start-up cost with no work in it.
(module
  (memory (export "memory") 1)
  (func (export "_start")))
