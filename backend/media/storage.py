"""Where photo bytes live, behind one small interface: the filesystem, or S3 (s3_storage)."""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Protocol


class PhotoStorage(Protocol):
    """Blobs by key. Keys are content hashes chosen by us, never user input."""

    def put(self, key: str, data: bytes) -> bool:
        """Store durably; return False when the key existed already (content-addressed)."""

    def get(self, key: str) -> bytes:
        """The bytes under `key`; FileNotFoundError when absent."""

    def exists(self, key: str) -> bool:
        """Whether `key` is stored."""

    def delete(self, key: str) -> None:
        """Remove `key` if present."""

    def move_aside(self, key: str) -> str | None:
        """Move `key` out of reach under a new key (None when absent); see `restore`."""

    def restore(self, aside: str, key: str) -> None:
        """Put a moved-aside blob back under `key`."""

    def keys_older_than(self, prefix: str, seconds: float) -> list[str]:
        """Keys under `prefix` stored more than `seconds` ago (for maintenance sweeps)."""


def original_key(sha256: str) -> str:
    """Storage key of a private original."""
    return f"originals/{sha256[:2]}/{sha256}"


def derivative_key(sha256: str, fmt: str) -> str:
    """Storage key of a public derivative."""
    return f"derivatives/{sha256[:2]}/{sha256}.{'jpg' if fmt == 'jpeg' else fmt}"


class FilesystemStorage:
    """Files under a root directory, written atomically and fsynced before `put` returns."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:  # keys are ours, but never trust a path blindly
            raise ValueError(f"storage key escapes the root: {key!r}")
        return path

    def put(self, key: str, data: bytes) -> bool:
        path = self._path(key)
        if path.exists():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())  # a 201 means the photo is on disk
            os.replace(tmp, path)
            dir_fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return True

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def move_aside(self, key: str) -> str | None:
        aside = f"aside/{uuid.uuid4().hex}"
        target = self._path(aside)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(self._path(key), target)  # atomic: readers see the file or nothing
        except FileNotFoundError:
            return None
        return aside

    def restore(self, aside: str, key: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._path(aside), path)

    def list_keys(self) -> list[str]:
        """Every stored key (for tests and maintenance)."""
        return sorted(
            str(p.relative_to(self.root)) for p in self.root.rglob("*")
            if p.is_file() and not p.name.startswith(".tmp-")
        )

    def keys_older_than(self, prefix: str, seconds: float) -> list[str]:
        base = self._path(prefix.rstrip("/") or ".") if prefix else self.root
        if not base.is_dir():
            return []
        cutoff = time.time() - seconds
        return sorted(
            str(p.relative_to(self.root)) for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".tmp-") and p.stat().st_mtime < cutoff
        )


def storage_from_settings(settings: Any) -> PhotoStorage:
    """The configured storage: files under MM_MEDIA_ROOT, or an S3 bucket (MM_STORAGE=s3)."""
    if settings.storage == "s3":
        from backend.media.s3_storage import S3Storage

        return S3Storage(settings.s3_bucket, endpoint_url=settings.s3_endpoint_url,
                         region=settings.s3_region, access_key=settings.s3_access_key,
                         secret_key=settings.s3_secret_key, prefix=settings.s3_prefix)
    return FilesystemStorage(settings.media_root)
