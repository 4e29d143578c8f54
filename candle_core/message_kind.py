"""Which messages on ``trades`` are not trades: the cheap rule both layers apply first.

Real market-data streams are mostly orders and quotes. A message is a **non-trade** when
its value starts with exactly ``{"type":"`` and the type is not ``trade`` (producers put
``type`` first, as the simulator does). That is two ``bytes.startswith`` calls, decided
before any JSON decoding; such messages are skipped and counted by type, never parsed.
Every other message is parsed as a trade, so a non-trade that does not follow the rule
(say ``{ "type": "order"``) is not lost silently: it fails validation and goes to the DLQ.
"""

from __future__ import annotations

TYPE_PREFIX = b'{"type":"'
TRADE_PREFIX = b'{"type":"trade"'
_KIND_START = len(TYPE_PREFIX)
MAX_KIND_BYTES = 32  # a longer type is reported as "other"


def non_trade_kind(value: bytes) -> str | None:
    """The message's type if the rule says it is not a trade, else ``None``."""
    if not value.startswith(TYPE_PREFIX) or value.startswith(TRADE_PREFIX):
        return None
    end = value.find(b'"', _KIND_START, _KIND_START + MAX_KIND_BYTES + 1)
    if end < 0:
        return "other"
    return value[_KIND_START:end].decode("ascii", "replace") or "other"
