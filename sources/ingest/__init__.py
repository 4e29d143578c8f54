"""``candles ingest http``: a feed over HTTP into ``trades``, exactly once.

``fetch`` (HTTP in both shapes, with retries), ``backoff`` (the waits, pure),
``checkpoint`` (the cursor, its file and the resume scan), ``sink`` (the producer),
``metrics`` and ``run`` (:func:`ingest`). See ``docs/sources.md``.
"""

from sources.ingest.run import IngestOptions, IngestSummary, Mode, ingest

__all__ = ["IngestOptions", "IngestSummary", "Mode", "ingest"]
