"""The contract stays pure: importing every ``candle_core`` module loads no other package of
the project and no settings library (the settings live with the components that use them,
docs/architecture.md)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import candle_core

PROJECT = ("kafka_ops", "storage", "sources", "speed_layer", "batch_layer", "reconciliation",
           "serving", "lambda_candles")


def test_the_contract_imports_only_itself_the_stdlib_and_its_codecs() -> None:
    modules = [f"candle_core.{m.name}" for m in pkgutil.iter_modules(candle_core.__path__)]
    probe = (f"import sys\nfor name in {modules!r}: __import__(name)\n"
             "print('\\n'.join(sorted(n.split('.')[0] for n in sys.modules)))")
    loaded = set(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                check=True).stdout.split())
    # pyarrow and msgspec are the contract's own (the candle schema, the trade decoder)
    assert loaded.isdisjoint({*PROJECT, "pydantic", "pydantic_settings", "polars"})
    assert {"candle_core", "msgspec", "pyarrow"} <= loaded
