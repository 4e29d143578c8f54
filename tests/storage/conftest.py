"""Fixtures for archive tests: one chaos stream, produced once to the session's broker."""

from __future__ import annotations

import pytest

from tests.pipeline import Pipeline
from tests.storage.archive_helpers import ChaosStream, chaos_stream
from tests.storage.s3_fixture import s3_server

__all__ = ["s3_server"]  # the real S3 server fixture, for every test here


@pytest.fixture(scope="session")
def stream() -> ChaosStream:
    return chaos_stream(24_000)


@pytest.fixture(scope="session")
def loaded(kafka_bootstrap: str, stream: ChaosStream) -> Pipeline:
    """Pipeline topics on the real broker with ``stream`` produced to ``trades``."""
    pipeline = Pipeline(kafka_bootstrap, partitions=4)
    pipeline.create_topics()
    pipeline.produce(stream.records)
    return pipeline
