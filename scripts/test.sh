#!/usr/bin/env bash
# Installs what OpenUCM needs, builds it, and runs every test: unit and integration tests on
# the normal build, the same again on an AddressSanitizer + UndefinedBehaviorSanitizer build,
# and a short run of each libFuzzer target on its corpus. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
fuzz_seconds=${UCM_FUZZ_SECONDS:-30}

bash scripts/install-deps.sh --test

echo "== format check"
files=$(git ls-files 'src/*.c' 'src/*.h' 'tools/*.c' 'tools/*.h' 'tests/*.c' 'tests/*.h' 2>/dev/null ||
	find src tools tests -name '*.[ch]')
clang-format --dry-run -Werror $files

echo "== build and test"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs")

echo "== sanitizer build and test (ASan + UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DUCM_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j"$jobs")

echo "== fuzz targets, ${fuzz_seconds}s each"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DUCM_FUZZ=ON -DUCM_TESTS=OFF >/dev/null
cmake --build build-fuzz -j"$jobs"
for target in build-fuzz/tests/fuzz/fuzz_*; do
	name=$(basename "$target")
	corpus=tests/fuzz/corpus/${name#fuzz_}
	work=$(mktemp -d)
	cp -r "$corpus"/. "$work"/ 2>/dev/null || true
	"$target" -max_total_time="$fuzz_seconds" -max_len=65536 -print_final_stats=0 "$work" \
		2>"$work.log" || { tail -n 40 "$work.log"; exit 1; }
	echo "$name: $(grep -c . "$work.log" >/dev/null && grep -oE 'Done [0-9]+ runs' "$work.log" || echo ran)"
	rm -rf "$work" "$work.log"
done
echo "all tests passed"
