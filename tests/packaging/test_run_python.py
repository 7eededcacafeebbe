"""`ganpaint --run-python SCRIPT ARGS` (issue 13): a script as __main__ in the app's interpreter, the way
smoke_frozen.sh runs the long-session driver with the frozen bundle's Python and Qt."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_run_python_runs_the_script_as_main_with_its_arguments(tmp_path):
    script = tmp_path / "probe.py"
    out = tmp_path / "out.txt"
    script.write_text(
        "import sys\n"
        "if __name__ == '__main__':\n"
        "    open(sys.argv[2], 'w').write(' '.join(sys.argv[1:]))\n"
        "    sys.exit(int(sys.argv[1]))\n")
    env = dict(os.environ, GANPAINT_DATA_DIR=str(tmp_path / "data"))
    p = subprocess.run([sys.executable, "-m", "ganpaint", "--run-python", str(script), "3", str(out)],
                       capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert p.returncode == 3, p.stderr
    assert out.read_text() == f"3 {out}"
    ok = subprocess.run([sys.executable, "-m", "ganpaint", "--run-python", str(script), "0", str(out)],
                        capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr


def test_smoke_frozen_installs_its_plugin_the_packaged_way_and_runs_the_long_session():
    text = (ROOT / "packaging" / "smoke_frozen.sh").read_text(encoding="utf-8")
    assert '"$APP" plugins install "$WHEEL"' in text
    assert "pip install -q --disable-pip-version-check --no-deps --no-build-isolation \\\n    --target" not in text
    assert '"$APP" plugins uninstall' in text
    assert "GANPAINT_FROZEN_APP=\"$APP\"" in text and "tests/qt/test_long_session.py" in text
    assert "--run-python" in (ROOT / "tests" / "qt" / "test_long_session.py").read_text(encoding="utf-8")
