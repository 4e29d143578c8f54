"""The one native module: the speed layer's hot path (see speed_layer/native/hotpath.h).

Everything else about the package is declared in pyproject.toml.
"""

from pathlib import Path

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "speed_layer._hotpath",
            sources=sorted(str(path) for path in Path("speed_layer/native").glob("*.c")),
            depends=["speed_layer/native/hotpath.h"],
            extra_compile_args=["-O3", "-Wall", "-Wextra", "-Wno-unused-parameter",
                                "-Wno-missing-field-initializers", "-Wno-cast-function-type"],
        )
    ],
)
