"""summary.py: the one table `make bench` opens with.

Each benchmark adds its headline rows here (measure, result, target, met);
tests/bench/run.sh sets VANTHU_BENCH_SUMMARY to a file and prints the rows
as one table above the detailed sections. Run alone, a benchmark adds nothing.
"""
import os


def add(measure, result, target="", met=None):
    path = os.environ.get("VANTHU_BENCH_SUMMARY")
    if not path:
        return
    verdict = "" if met is None else ("yes" if met else "**no**")
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"| {measure} | {result} | {target} | {verdict} |\n")
