"""Runtimes that measured code runs on (Wasm engines today), one module per kind, selected in one place."""
