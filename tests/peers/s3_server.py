"""An S3-protocol server in the test process (moto's threaded server): real HTTP, real
signatures, real buckets — what an S3-compatible store answers."""

from __future__ import annotations

from dataclasses import dataclass

import boto3
from moto.server import ThreadedMotoServer

ACCESS_KEY, SECRET_KEY, REGION = "test-access", "test-secret", "eu-central-1"


@dataclass
class S3Server:
    """The running server."""

    server: ThreadedMotoServer
    endpoint_url: str

    def create_bucket(self, name: str) -> None:
        client = boto3.client("s3", endpoint_url=self.endpoint_url, region_name=REGION,
                              aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
        client.create_bucket(Bucket=name, CreateBucketConfiguration={
            "LocationConstraint": REGION})


def start_s3_server() -> S3Server:
    """Start on a free loopback port."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    port = server._server.server_port  # noqa: SLF001 - moto exposes no accessor
    return S3Server(server, f"http://127.0.0.1:{port}")
