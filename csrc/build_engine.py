"""cffi build script for splitpriv's C engine (API mode).

It lives outside the package, as setup.py's ``cffi_modules`` entry, and builds the extension
module ``splitpriv._engine`` from the C files in this folder. The declarations cffi sees are
exactly ``splitpriv.h``, plus the Python callback the engine calls for SP_CALLBACK rules.
Only ``splitpriv._binding`` may import the module this builds.
"""

from __future__ import annotations

import os
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
SOURCES = [
    "engine.c",
    "ring.c",
    "tracees.c",
    "memory.c",
    "launch.c",
    "probe.c",
    "seccomp.c",
    "notify.c",
    "unpriv.c",
]

ffibuilder = FFI()
ffibuilder.cdef(
    (HERE / "splitpriv.h").read_text()
    + """
    extern "Python" int sp_py_decide(void *, struct sp_event *, struct sp_verdict *);
    void sp_use_python_callback(struct sp_session *);
    """
)
ffibuilder.set_source(
    "splitpriv._engine",
    """
    #include "engine_internal.h"
    static int sp_py_decide(void *, struct sp_event *, struct sp_verdict *);
    static void sp_use_python_callback(struct sp_session *s) { sp_install_decide(s, sp_py_decide); }
    """,
    # setuptools wants paths relative to the project root, where the build runs.
    sources=[os.path.relpath(HERE / name) for name in SOURCES],
    include_dirs=[os.path.relpath(HERE)],
    extra_compile_args=["-O2", "-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"],
    libraries=["pthread"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
