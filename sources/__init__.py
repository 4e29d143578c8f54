"""Trade sources: the simulator and file replay that feed the ``trades`` topic.

Every source yields :class:`sources.records.Record` ``(key, value, timestamp_us)`` in
arrival order; ``timestamp_us`` becomes the Kafka message timestamp (rounded up to ms).

* ``simulator`` (+ ``symbols``, ``market``, ``arrivals``, ``chaos``, ``malformed``,
  ``chunk``, ``wire``): realistic, deterministic trades with injected faults and their
  ground truth (``labels``), in columnar batches (``batch``);
* ``writers``: project NDJSON / Parquet files and the label sidecar; ``outputs`` drains
  batches to files or Kafka;
* ``formats``: readers for project NDJSON and Parquet, typed trades Parquet, Kibot tick
  files and Binance trade CSVs;
* ``replay`` (+ ``pacing``, ``loop``, ``producer``): produce records with pacing, looping
  and an idempotent producer; ``reporting``: progress, summaries, clean stops.
"""
