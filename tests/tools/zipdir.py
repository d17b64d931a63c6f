#!/usr/bin/python3
"""zipdir.py SRC_DIR OUT.docx: packs an unzipped DOCX folder into a package.

[Content_Types].xml goes first, as Office expects; entries are deflated and
sorted, so the same folder always gives the same bytes.
"""
import os
import sys
import zipfile


def main():
    src, out = sys.argv[1], sys.argv[2]
    names = []
    for root, _dirs, files in os.walk(src):
        for f in files:
            full = os.path.join(root, f)
            names.append(os.path.relpath(full, src))
    names.sort(key=lambda n: (n != "[Content_Types].xml", n))
    tmp = out + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for n in names:
            info = zipfile.ZipInfo(n.replace(os.sep, "/"), date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(os.path.join(src, n), "rb") as fh:
                z.writestr(info, fh.read())
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
