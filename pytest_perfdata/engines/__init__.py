"""Real engines behind the fixtures, one subpackage per family (wasm, oci, opa, k8s, build).

Each family keeps its Protocol and its one place of selection in its ``__init__``, one module per
implementation and its fixtures in ``fixtures.py``. The modules at this level are what the
families share: bounded child processes, fresh interpreters, the cache directory, one-line texts.
"""
