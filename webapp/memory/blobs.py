"""L4: values over ``MEMORY_BLOB_THRESHOLD_BYTES`` as files under ``BLOB_DIR/memory``.

Content-addressed: a file is named by the SHA-256 of its bytes (``ab/abcdef...``), so equal
values share one file, a write is idempotent, and a read can prove it got the bytes that were
written. Files are written to a temporary name and renamed, so a reader never sees half a
file. Deleting an entry leaves its file; ``orphans`` finds files that no entry points to, and
the sweep removes those older than a grace period (a put writes its file before its
transaction commits, and a young unreferenced file may belong to one still in flight).
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


class BlobCorrupt(Exception):
    """A blob file is missing or its bytes do not match its name."""


class BlobStore:
    def __init__(self, root: str) -> None:
        self.root = Path(root) / "memory"

    def path(self, ref: str) -> Path:
        return self.root / ref[:2] / ref

    def write(self, data: bytes) -> str:
        ref = hashlib.sha256(data).hexdigest()
        target = self.path(ref)
        if target.exists():
            os.utime(target)  # a young mtime keeps the sweep off a file that is being reused
            return ref
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return ref

    def read(self, ref: str) -> bytes:
        try:
            data = self.path(ref).read_bytes()
        except FileNotFoundError:
            raise BlobCorrupt(f"blob {ref} is missing from {self.root}") from None
        if hashlib.sha256(data).hexdigest() != ref:
            raise BlobCorrupt(f"blob {ref} does not match its checksum")
        return data

    def files(self) -> Iterator[tuple[str, int, float]]:
        """(ref, bytes, mtime) of every blob file."""
        if not self.root.is_dir():
            return
        for folder in self.root.iterdir():
            if not folder.is_dir():
                continue
            for entry in os.scandir(folder):
                if entry.is_file() and not entry.name.startswith(".tmp-"):
                    info = entry.stat()
                    yield entry.name, info.st_size, info.st_mtime

    def remove_unreferenced(self, referenced: set[str], grace_seconds: float) -> tuple[int, int]:
        """Delete files no entry names and older than ``grace_seconds``: (files, bytes) removed."""
        cutoff = time.time() - grace_seconds
        removed = freed = 0
        for ref, size, mtime in list(self.files()):
            if ref not in referenced and mtime < cutoff:
                self.path(ref).unlink(missing_ok=True)
                removed, freed = removed + 1, freed + size
        return removed, freed
