"""summary.py: the one table `make bench` opens with.

Each benchmark adds its headline rows here (measure, result, target, met);
tests/bench/run.sh sets VANTHU_BENCH_SUMMARY to a file and prints the rows
as one table above the detailed sections. Run alone, a benchmark adds nothing.
discard() is how each benchmark removes its folder.
"""
import os
import shutil


def add(measure, result, target="", met=None):
    path = os.environ.get("VANTHU_BENCH_SUMMARY")
    if not path:
        return
    verdict = "" if met is None else ("yes" if met else "**no**")
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"| {measure} | {result} | {target} | {verdict} |\n")


def discard(path):
    """A benchmark's folder, done with. Under make bench (run.sh sets VANTHU_BENCH_TRASH) it
    is moved aside, and run.sh removes them all once every benchmark has run: this machine's
    root is ext4 without a journal, where each new inode is checked against the inodes freed
    in the last one to six minutes, so the thousands of files one benchmark frees at its end
    would be paid for by the next one's file creations. Run alone: removed now."""
    trash = os.environ.get("VANTHU_BENCH_TRASH")
    if trash:
        try:
            os.makedirs(trash, exist_ok=True)
            os.rename(path, os.path.join(trash, os.path.basename(path)))
            return
        except OSError:
            pass  # another file system: removed here
    shutil.rmtree(path, ignore_errors=True)
