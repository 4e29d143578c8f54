"""The serving layer's settings (``candles serve``): see ``kafka_ops.settings``. Its own
options (host, port, ring size) are flags (``serving.services.ServeOptions``)."""

from __future__ import annotations

from storage.settings import ArchiveSettings, ReportSettings


class ServeSettings(ArchiveSettings, ReportSettings):
    """What ``candles serve`` reads: the archive and its reports, Kafka for the live tail."""
