"""Runs the pytest example of docs/testing-with-rtk.md exactly as written.

Every fenced ```python block whose first line is `# file: NAME` is written to NAME in a fresh
directory, and pytest runs there with the current interpreter (the SDK's virtualenv), RTK_BIN
naming the binary under test. Fails if the blocks are missing or any test fails or none runs.
"""

import pathlib
import re
import subprocess
import sys
import tempfile

doc = pathlib.Path(sys.argv[1]).read_text()
blocks = re.findall(r"```python\n# file: (\S+)\n(.*?)```", doc, re.S)
if not any(name.startswith("test_") for name, _ in blocks):
    sys.exit(f"{sys.argv[1]}: no `# file: test_…` python block found")
with tempfile.TemporaryDirectory() as d:
    for name, body in blocks:
        pathlib.Path(d, name).write_text(f"# file: {name}\n{body}")
    rc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", d], cwd=d).returncode
sys.exit(rc)
