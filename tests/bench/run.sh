#!/bin/sh
# make bench: runs every benchmark, prints one summary table (each headline
# against its target) followed by the detailed tables, and writes the same
# to tests/bench/results.md with the machine and date. Nothing fails on a time.
#   VANTHU_BENCH_SIZES=10000,100000  queries on smaller stores (default up to 1,000,000)
#   VANTHU_BACKLOG=20000             a smaller backlog (default 100,000)
#   VANTHU_BENCH_ESIGN=50            fewer signed documents (default 200)
#   VANTHU_BENCH_ESIGN_NAIVE=20      the naive soffice + pdfsig chain on fewer of them (default all)
#   VANTHU_BENCH_XCH_LAT=20 VANTHU_BENCH_XCH_TP=200  fewer exchanged documents (default 50, 1,000)
set -eu
cd "$(dirname "$0")/../.."
out=tests/bench/results.md
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
VANTHU_BENCH_SUMMARY=$work/summary
# each benchmark's folder is moved here when it is done and removed at exit, so that no
# benchmark pays for the files the one before it freed (summary.discard says why)
VANTHU_BENCH_TRASH=$work/trash
export VANTHU_BENCH_SUMMARY VANTHU_BENCH_TRASH
: > "$VANTHU_BENCH_SUMMARY"

echo "bench: render (vanthu and docxtemplater)" >&2
/usr/bin/python3 tests/bench/render.py > "$work/render"
echo "bench: intake (1,000 and 10,000 reports, latency, scripted pipeline)" >&2
/usr/bin/python3 tests/bench/intake.py > "$work/intake"
echo "bench: queries (stores of 10,000 to 1,000,000 documents)" >&2
/usr/bin/python3 tests/bench/queries.py > "$work/queries"
echo "bench: backlog" >&2
/usr/bin/python3 tests/bench/backlog.py > "$work/backlog"
echo "bench: signing (sign, issue, the naive soffice + pdfsig chain, the signing step alone)" >&2
/usr/bin/python3 tests/bench/esign.py > "$work/esign"
echo "bench: exchange (latency between two offices, 1,000 documents at once, 3-node JetStream)" >&2
/usr/bin/python3 tests/bench/exchange.py > "$work/exchange"

{
	echo "# vanthu benchmarks"
	echo
	echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB."
	echo "Release build (-O2). No test fails on these numbers."
	echo
	echo "| measure | result | target | met |"
	echo "|---|---|---|---|"
	cat "$VANTHU_BENCH_SUMMARY"
	echo
	echo "## Render"
	echo
	cat "$work/render"
	echo
	echo "## Intake"
	echo
	cat "$work/intake"
	echo
	echo "## Queries"
	echo
	cat "$work/queries"
	echo
	echo "## Backlog"
	echo
	cat "$work/backlog"
	echo
	echo "## Signing"
	echo
	cat "$work/esign"
	echo
	echo "## Exchange"
	echo
	cat "$work/exchange"
	if [ -f tests/bench/notes.md ]; then
		echo
		cat tests/bench/notes.md
	fi
} > "$work/results.md"
cp "$work/results.md" "$out"
cat "$out"
