#!/usr/bin/env bash
# Everything splitpriv needs on a fresh Debian/Ubuntu machine: the system packages (a C
# compiler and libc headers for the engine and the test programs, a static libc for the static
# test binary, strace for comparisons), then the package itself with its test tools.
# Idempotent: run it again at will. README.md and .ci/run both use it.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(gcc libc6-dev strace)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PYTHON="${PYTHON:-python3}"
"$PYTHON" -m pip install --quiet --disable-pip-version-check -e '.[test]'
# An editable install leaves the package uncompiled, and with PYTHONDONTWRITEBYTECODE nothing
# would ever write its bytecode: every `splitpriv` start would compile each module (~40 ms).
"$PYTHON" -m compileall -q src/splitpriv
