#!/usr/bin/python3
"""render.py: times vanthu's DOCX renderer against docxtemplater (make bench).

Both engines render the same template (build/templates/thong-bao.docx) with
the same data (tests/fixtures/render/bench-thong-bao.json, a two-page notice)
N times in one process, into memory:
- vanthu: build/bench_render, the engine of vanthud linked from the release
  objects (the template compiled once, as vanthud does at start);
- docxtemplater: /work/shared/peers/docxtemplater/run.sh, the reference
  JavaScript engine (its first run installs it from npm into ~/.cache).
Prints one Markdown table row per measure, then checks that the two outputs
hold the same text (every w:t of the body, headers and footers, paragraph by
paragraph) and prints a line when they do not. Nothing here fails on a time.
"""
import difflib
import html
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import types
import zipfile

import summary

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
OURS = os.path.join(REPO, "build", "bench_render")
PEER = os.path.join(REPO, "..", "shared", "peers", "docxtemplater", "run.sh")
TEMPLATE = os.path.join(REPO, "build", "templates", "thong-bao.docx")
DATA = os.path.join(REPO, "tests", "fixtures", "render", "bench-thong-bao.json")
N_OURS = 10000
N_PEER = 300
TARGET = 25

RATE = re.compile(r"^(?P<who>.+?): (?P<n>\d+) documents in (?P<s>[\d.]+) s = (?P<rate>[\d.]+) docs/s, "
                  r"(?P<ms>[\d.]+) ms/doc, (?P<bytes>\d+) bytes/doc$", re.M)
TEXT_PARTS = re.compile(r"word/(document|header\d*|footer\d*)\.xml")
TEXT_BITS = re.compile(r"<w:t(?:\s[^>]*)?>([^<]*)</w:t>|<w:br\b[^>]*/>")


# Peak RSS (MB) of the last command run() ran, itself and the children it waited for.
LAST_RSS = {"mb": 0.0}


def run(cmd, timeout):
    """(rc, stdout, stderr) of cmd; rc None when it could not start or ran out of time."""
    try:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError as e:
        return None, "", str(e)
    out = {}
    readers = [threading.Thread(target=lambda k, f: out.__setitem__(k, f.read()), args=(k, f))
               for k, f in (("out", p.stdout), ("err", p.stderr))]
    for t in readers:
        t.start()
    timer = threading.Timer(timeout, p.kill)
    timer.start()
    _pid, status, usage = os.wait4(p.pid, 0)
    timer.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)
    for t in readers:
        t.join()
    LAST_RSS["mb"] = usage.ru_maxrss / 1024
    if p.returncode == -signal.SIGKILL:
        return None, "", f"no answer in {timeout} s"
    return p.returncode, out["out"].decode("utf-8", "replace"), out["err"].decode("utf-8", "replace")


def last_line(text):
    lines = [x.strip() for x in text.strip().splitlines() if x.strip()]
    return lines[-1] if lines else "no output"


def ensure_node():
    """Installs nodejs and npm from Debian when missing; None, or why they are not there."""
    if shutil.which("node") and shutil.which("npm"):
        return None
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "nodejs", "npm"]):
        try:
            p = subprocess.run(sudo + cmd, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as e:
            return f"apt-get install nodejs npm failed: {e}"
        if p.returncode != 0:
            return "apt-get install nodejs npm failed: " + last_line(p.stderr.decode("utf-8", "replace"))
    return None if shutil.which("node") and shutil.which("npm") else "nodejs or npm still missing"


def peer_cache():
    """Where run.sh installs docxtemplater (its own rule)."""
    return os.environ.get("VANTHU_PEER_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
        "vanthu-peer-docxtemplater")


def measure(cmd, timeout):
    """The parsed rate line of a run, or (None, why)."""
    rc, out, err = run(cmd, timeout)
    m = RATE.search(out)
    if rc != 0 or m is None:
        return None, last_line(err or out)
    return types.SimpleNamespace(group=m.group, rss_mb=LAST_RSS["mb"]), None


def paragraphs(path):
    """The text of each paragraph of the body, headers and footers, as a reader sees it."""
    out = []
    with zipfile.ZipFile(path) as z:
        for name in sorted(n for n in z.namelist() if TEXT_PARTS.fullmatch(n)):
            xml = z.read(name).decode("utf-8")
            for chunk in xml.split("</w:p>")[:-1]:
                text = "".join("\n" if m.group(1) is None else html.unescape(m.group(1))
                               for m in TEXT_BITS.finditer(chunk))
                if text.strip():
                    out.append(f"{name}: {text}")
    return out


def compare(ours, peer):
    """None when both outputs hold the same text, else one line saying how they differ."""
    a, b = paragraphs(ours), paragraphs(peer)
    if a == b:
        return None
    only_a, only_b = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op != "equal":
            only_a += a[i1:i2]
            only_b += b[j1:j2]

    def show(items):
        s = "; ".join(f"\"{x}\"" for x in items[:6]).replace("\n", "⏎").replace("|", "\\|")
        return s + (f"; … ({len(items)} in all)" if len(items) > 6 else "") if items else "nothing"

    return (f"The two outputs differ in text ({len(a)} and {len(b)} paragraphs): only vanthu has "
            f"{show(only_a)}; only docxtemplater has {show(only_b)}.")


def main():
    tmp = tempfile.mkdtemp(prefix="vanthu-bench-render-")
    try:
        ours_out = os.path.join(tmp, "vanthu.docx")
        peer_out = os.path.join(tmp, "docxtemplater.docx")
        ours, why_ours = measure([OURS, TEMPLATE, DATA, str(N_OURS), ours_out], 600)
        why_peer = ensure_node()
        peer = None
        if why_peer is None:
            peer, why_peer = measure([PEER, TEMPLATE, DATA, str(N_PEER), peer_out], 1200)
            if peer is None and not os.path.isdir(os.path.join(peer_cache(), "node_modules",
                                                               "docxtemplater")):
                why_peer = "npm could not install docxtemplater (registry unreachable?)" + (
                    "" if why_peer == "no output" else f": {why_peer}")
        peer_name = peer.group("who") if peer else "docxtemplater"

        def cell(m):
            return (f"{float(m.group('rate')):,.1f} docs/s ({float(m.group('ms')):.3f} ms/doc, "
                    f"{int(m.group('bytes')):,} bytes, {m.group('n')} documents; peak RSS "
                    f"{m.rss_mb:.1f} MB)")

        ours_cell = cell(ours) if ours else f"not run: {why_ours}"
        peer_cell = cell(peer) if peer else f"not run: {why_peer}"
        if ours and peer:
            ratio = f"{float(ours.group('rate')) / float(peer.group('rate')):,.1f}×"
        else:
            ratio = "no ratio: " + ("vanthu" if ours is None else "docxtemplater") + " did not run"
        print(f"| measure | vanthu | {peer_name} | vanthu ÷ docxtemplater | target |")
        print("|---|---|---|---|---|")
        print(f"| thong-bao.docx with bench-thong-bao.json (two pages: 25 body paragraphs, 12 "
              f"recipients), rendered in memory in one process | {ours_cell} | {peer_cell} | "
              f"{ratio} | ≥ {TARGET}× |")
        if ours and peer:
            r = float(ours.group('rate')) / float(peer.group('rate'))
            summary.add("Render: vanthu ÷ docxtemplater, same template and data",
                        f"{float(ours.group('rate')):,.0f} ÷ {float(peer.group('rate')):,.1f} "
                        f"docs/s = {r:,.1f}×", f"≥ {TARGET}×", r >= TARGET)
        else:
            summary.add("Render: vanthu ÷ docxtemplater", ratio, f"≥ {TARGET}×", False)
        if ours and peer:
            line = compare(ours_out, peer_out)
            print()
            print(line if line else "Both outputs hold the same text.")
    finally:
        summary.discard(tmp)


if __name__ == "__main__":
    main()
