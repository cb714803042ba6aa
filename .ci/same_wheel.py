"""Two wheels hold the same files with the same bytes (their RECORD aside, which lists them): the one built
from the sdist and the one built from the tree. Usage: python .ci/same_wheel.py A.whl B.whl"""

import sys
import zipfile


def files(path: str) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as whl:
        return {n: whl.read(n) for n in whl.namelist() if not n.endswith(".dist-info/RECORD")}


a, b = (files(p) for p in sys.argv[1:3])
differ = sorted(n for n in a.keys() | b.keys() if a.get(n) != b.get(n))
if differ:
    sys.exit(f"the wheels differ in: {', '.join(differ)}")
configs = sorted(n for n in a if n.startswith("nnopt_cli/configs/"))
print(f"same wheel from the sdist and from the tree: {len(a)} files, {len(configs)} example configs")
