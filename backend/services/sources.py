"""Read an import file from a path or an http(s) URL, with a size limit and a timeout."""

from __future__ import annotations

from pathlib import Path

import requests

from backend.errors import ConfigurationError


def read_source(source: str, *, what: str, max_bytes: int, timeout: float = 60.0,
                download_hint: str = "") -> bytes:
    """The bytes of a file, or of an http(s) download, no larger than `max_bytes`.

    `what` names the data in messages ("district layer"); `download_hint` says how to do
    without the download when it fails.
    """
    if source.startswith(("http://", "https://")):
        try:
            with requests.get(source, timeout=timeout, stream=True) as response:
                response.raise_for_status()
                chunks, size = [], 0
                for chunk in response.iter_content(chunk_size=1 << 16):
                    size += len(chunk)
                    if size > max_bytes:
                        raise ConfigurationError(f"{source} is larger than {max_bytes} bytes")
                    chunks.append(chunk)
                return b"".join(chunks)
        except requests.RequestException as exc:
            raise ConfigurationError(
                f"Cannot download the {what} from {source} ({exc.__class__.__name__})."
                + (f" {download_hint}" if download_hint else "")
            ) from exc
    path = Path(source)
    if not path.is_file():
        raise ConfigurationError(f"{what[:1].upper()}{what[1:]} file {source} does not exist.")
    if path.stat().st_size > max_bytes:
        raise ConfigurationError(f"{source} is larger than {max_bytes} bytes")
    return path.read_bytes()
