"""A real S3 server on localhost (moto in server mode) and settings pointing at it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest
from moto.server import ThreadedMotoServer

from lambda_candles.settings import CandlesSettings, load_settings

KEY_ID, SECRET = "testing-key", "testing-secret"


@dataclass(frozen=True)
class S3Server:
    endpoint: str

    def bucket(self) -> str:
        """A new, empty bucket."""
        name = f"candles-{uuid.uuid4().hex[:10]}"
        self.client().create_bucket(Bucket=name)
        return name

    def client(self) -> object:
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=KEY_ID,
                            aws_secret_access_key=SECRET, region_name="us-east-1")

    def env(self, root: str) -> dict[str, str]:
        """Environment for ``candles`` subprocesses writing to ``root`` (s3://...)."""
        return {"CANDLES_ARCHIVE_ROOT": root, "CANDLES_S3_ENDPOINT_URL": self.endpoint,
                "CANDLES_S3_ACCESS_KEY_ID": KEY_ID, "CANDLES_S3_SECRET_ACCESS_KEY": SECRET}

    def settings(self, root: str) -> CandlesSettings:
        return load_settings(archive_root=root, s3_endpoint_url=self.endpoint,
                             s3_access_key_id=KEY_ID, s3_secret_access_key=SECRET)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Server(f"http://{host}:{port}")
    finally:
        server.stop()
