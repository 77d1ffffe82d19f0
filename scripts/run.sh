#!/usr/bin/env bash
# Installs what OpenUCM needs, builds it, and runs ucmd on its embedded defaults: SQLite in
# /var/lib/openucm, a generated certificate authority, every listener on its standard port.
# Extra arguments go to ucmd (e.g. --admin-listen 127.0.0.1:8443).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUCM_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)"
echo "ucmd starting; in another shell: build/ucmctl init   (creates the first administrator)"
exec build/ucmd "$@"
