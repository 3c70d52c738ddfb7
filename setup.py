"""Only the cffi build hook lives here; everything else is in pyproject.toml."""

from setuptools import setup

setup(cffi_modules=["csrc/build_engine.py:ffibuilder"])
