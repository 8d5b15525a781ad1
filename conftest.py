"""Suite-wide settings: the plugin is loaded through its entry point; nothing else is needed here.

Kept at the top level so that `pytest suites/` and `pytest tests/` share one rootdir (and one
`baselines/` directory) wherever they are started from.
"""
