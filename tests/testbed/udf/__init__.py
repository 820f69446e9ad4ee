"""The test bed's UDF library: SingleStore's vector functions for the private MariaDB.

`s2vector.c` is compiled once per source version with gcc (Debian's libmariadb-dev ships the UDF
headers) into ~/.cache/django-singlestore-testbed/, copied into the private instance's own
`--plugin-dir` and registered with `CREATE FUNCTION IF NOT EXISTS ... SONAME` on every start, so a
reused data dir and a fresh one behave the same. No gcc or headers: the functions are missing and
the vector tests skip, naming the missing piece (`UDF_UNAVAILABLE`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

__all__ = ["FUNCTIONS", "LIBRARY", "SOURCE", "UdfBuildError", "build", "plugin_sql"]

SOURCE = Path(__file__).with_name("s2vector.c")
LIBRARY = "s2vector.so"
#: name -> SQL return type of each function in the library.
FUNCTIONS = {
    "DOT_PRODUCT": "REAL",
    "EUCLIDEAN_DISTANCE": "REAL",
    "S2VEC_PACK": "STRING",
    "S2VEC_JSON": "STRING",
}
UDF_UNAVAILABLE = "gateway limit: the s2vector UDF library did not build (gcc or libmariadb-dev missing)"


class UdfBuildError(RuntimeError):
    """gcc or the MariaDB headers are missing, or the library did not compile."""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "django-singlestore-testbed"


def build() -> Path:
    """The compiled library (built on first use of this source version)."""
    source = SOURCE.read_bytes()
    digest = hashlib.sha256(source).hexdigest()[:16]
    target = cache_dir() / f"s2vector-{digest}.so"
    if target.exists():
        return target
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        raise UdfBuildError("no gcc on PATH (make deps installs build-essential)")
    include = "/usr/include/mariadb"
    if not Path(include, "mariadb_com.h").exists():
        raise UdfBuildError(f"no {include}/mariadb_com.h (make deps installs libmariadb-dev)")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    cmd = [gcc, "-shared", "-fPIC", "-O2", f"-I{include}", "-o", str(tmp), str(SOURCE), "-lm"]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise UdfBuildError(f"gcc failed: {res.stderr.strip()[:2000]}")
    os.replace(tmp, target)  # atomic: parallel test sessions may build at once
    return target


def install(plugin_dir: Path) -> None:
    """Copy the library into `plugin_dir` (the instance's --plugin-dir)."""
    plugin_dir.mkdir(parents=True, exist_ok=True)
    tmp = plugin_dir / f".{LIBRARY}.{os.getpid()}"
    shutil.copyfile(build(), tmp)
    os.replace(tmp, plugin_dir / LIBRARY)


def plugin_sql() -> str:
    """Register every function (idempotent)."""
    return "".join(
        f"CREATE FUNCTION IF NOT EXISTS {name} RETURNS {kind} SONAME '{LIBRARY}';\n"
        for name, kind in FUNCTIONS.items()
    )
