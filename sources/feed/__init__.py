"""``candles feed serve``: a development tick API over a trades file.

``wire`` (the envelope both sides speak), ``catalog`` (numbering and the release
schedule, pure), ``server`` (FastAPI + uvicorn). See ``docs/sources.md``.
"""

from sources.feed.server import serve_in_thread

__all__ = ["serve_in_thread"]
