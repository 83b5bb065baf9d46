"""Photo storage on an S3-compatible object store (AWS S3, MinIO, Ceph, …), so web and worker
processes on different machines share photos. Same interface as the filesystem storage."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3Storage:
    """Blobs as objects `<prefix><key>` in one bucket."""

    def __init__(self, bucket: str, *, endpoint_url: str | None = None,
                 region: str | None = None, access_key: str | None = None,
                 secret_key: str | None = None, prefix: str = "") -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.client: Any = boto3.client(
            "s3", endpoint_url=endpoint_url or None, region_name=region or None,
            aws_access_key_id=access_key or None, aws_secret_access_key=secret_key or None,
            config=Config(retries={"max_attempts": 4, "mode": "standard"},
                          connect_timeout=5, read_timeout=30))

    def _key(self, key: str) -> str:
        if key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"storage key escapes the root: {key!r}")
        return self.prefix + key

    def put(self, key: str, data: bytes) -> bool:
        if self.exists(key):
            return False
        # S3 acknowledges a PUT only once the object is durably stored.
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        return True

    def get(self, key: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                raise FileNotFoundError(key) from exc
            raise
        return answer["Body"].read()

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def move_aside(self, key: str) -> str | None:
        if not self.exists(key):
            return None
        aside = f"aside/{uuid.uuid4().hex}"
        self.client.copy_object(Bucket=self.bucket, Key=self._key(aside),
                                CopySource={"Bucket": self.bucket, "Key": self._key(key)})
        self.delete(key)
        return aside

    def restore(self, aside: str, key: str) -> None:
        self.client.copy_object(Bucket=self.bucket, Key=self._key(key),
                                CopySource={"Bucket": self.bucket, "Key": self._key(aside)})
        self.delete(aside)

    def keys_older_than(self, prefix: str, seconds: float) -> list[str]:
        cutoff = datetime.now(UTC) - timedelta(seconds=seconds)
        keys = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._key(prefix)):
            keys += [item["Key"][len(self.prefix):] for item in page.get("Contents", [])
                     if item["LastModified"] < cutoff]
        return sorted(keys)

    def list_keys(self) -> list[str]:
        """Every stored key (for tests and maintenance)."""
        keys = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix):
            keys += [item["Key"][len(self.prefix):] for item in page.get("Contents", [])]
        return sorted(keys)
