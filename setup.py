"""The one native module: the speed layer's hot path (see speed_layer/_hotpath.c).

Everything else about the package is declared in pyproject.toml.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "speed_layer._hotpath",
            sources=["speed_layer/_hotpath.c"],
            extra_compile_args=["-O3", "-Wall", "-Wextra", "-Wno-unused-parameter",
                                "-Wno-missing-field-initializers", "-Wno-cast-function-type"],
        )
    ],
)
