#!/bin/sh
# make bench: runs every benchmark and writes tests/bench/results.md (with the machine and date).
set -eu
cd "$(dirname "$0")/../.."
out=tests/bench/results.md
tmp=$(mktemp)
{
	echo "# vanthu benchmarks"
	echo
	echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB."
	echo "Release build (-O2). No test fails on these numbers."
	echo
	echo "## Render"
	echo
	/usr/bin/python3 tests/bench/render.py
	echo
	echo "## Intake"
	echo
	/usr/bin/python3 tests/bench/intake.py
} > "$tmp"
mv "$tmp" "$out"
cat "$out"
