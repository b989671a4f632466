"""Zips a Lambda bootstrap binary the way ddns-ctl deploys it: one entry,
mode 0755, a fixed timestamp, maximum deflate.

usage: zip_bootstrap.py BINARY ZIP
"""

import sys
import zipfile

binary, target = sys.argv[1], sys.argv[2]
entry = zipfile.ZipInfo("bootstrap", date_time=(1980, 1, 1, 0, 0, 0))
entry.external_attr = 0o100755 << 16
entry.compress_type = zipfile.ZIP_DEFLATED
with open(binary, "rb") as f, zipfile.ZipFile(target, "w") as z:
    z.writestr(entry, f.read(), compresslevel=9)
