"""The speed-layer benchmark behind ``bench/speed_layer.py`` (see its docstring), one job
per module: ``shared`` timing and child plumbing, ``bench`` the run's topics and settings,
``data`` preload and the reference check, ``consume`` (a), ``speed`` (b), ``quix`` (c),
``paced`` and ``latency`` the paced run, ``report`` the summary, ``cli`` the command.

Every module imports only the standard library and ``bench.common`` at import time: the
children re-run ``bench/speed_layer.py``, and the Quix one runs in another virtualenv.
"""
