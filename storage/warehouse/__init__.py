"""The warehouse load: verified batch bars into Snowflake, or a local DuckDB file.

``ddl`` holds the SQL (``ddl/<dialect>/*.sql``), ``bars`` reads the batch bars,
``loader`` runs one load (stage, MERGE, audit) behind a small ``Target`` protocol that
``duckdb_target`` and ``snowflake_target`` implement, ``auth`` builds Snowflake's
connection parameters, ``metrics`` pushes the figures. See ``docs/warehouse.md``.
"""
