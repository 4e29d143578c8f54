"""The feed's wire format: one envelope per record, shared by the server and ``ingest``.

Each record of the served file travels as one JSON object (one NDJSON line on the stream,
one array element on the REST endpoint)::

    {"seq": 17, "id": 5, "symbol": "BTCUSDT", "arrival_us": 1700000000123456,
     "trade": {"symbol": "BTCUSDT", "trade_id": 42, ...}}

* ``seq``: the feed's global sequence number (1-based, file order); the stream's resume
  cursor (``GET /stream?after=SEQ``);
* ``id``: the per-symbol sequence number (1-based, like an exchange's trade id); the REST
  cursor (``GET /trades?symbol=S&from_id=ID``);
* ``symbol``: the record's key (``""`` when its value has no readable symbol);
* ``arrival_us``: the arrival time, which the ingester uses as the Kafka timestamp;
* ``trade``: the original message bytes, spliced in verbatim when they are valid JSON;
  otherwise ``raw`` holds them base64-encoded. Either way the ingester recovers the exact
  bytes, so a malformed record reaches the dead-letter topic as it was.

The stream ends with ``{"end": true, "last_seq": N}`` once a finite feed has sent its
last record; a connection that closes without it was dropped. Blank lines are keepalives.
"""

from __future__ import annotations

import base64

import msgspec

from candle_core.parsing import MAX_JSON_DEPTH, json_depth
from sources.records import Record

END_MARKER_FIELD = "end"


class Envelope(msgspec.Struct, frozen=True):
    """One record as the feed serves it (``trade`` is empty when ``raw`` carries it)."""

    seq: int = 0
    id: int = 0
    symbol: str = ""
    arrival_us: int = 0
    trade: msgspec.Raw = msgspec.Raw()
    raw: str | None = None
    end: bool = False
    last_seq: int = 0

    def value(self) -> bytes:
        """The original message bytes."""
        if self.raw is not None:
            return base64.b64decode(self.raw)
        return bytes(self.trade)


_DECODER = msgspec.json.Decoder(Envelope)


def decode_envelope(line: bytes) -> Envelope:
    """An envelope (or the end marker) from one line / array element."""
    return _DECODER.decode(line)


def decode_page(body: bytes) -> list[Envelope]:
    """The envelopes of one REST page (a JSON array)."""
    return msgspec.json.decode(body, type=list[Envelope])


def _is_json(value: bytes) -> bool:
    """Whether the value can travel as JSON inside its envelope: valid JSON, and shallow
    enough that no reader's decoder recurses on it (deeper values travel as base64)."""
    if json_depth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        return False
    try:
        msgspec.json.decode(value)
    except msgspec.DecodeError:
        return False
    return True


def encode_envelope(seq: int, symbol_id: int, record: Record) -> bytes:
    """The envelope of ``record`` (no trailing newline)."""
    symbol = record.key.decode("utf-8", "replace")
    head = msgspec.json.encode({"seq": seq, "id": symbol_id, "symbol": symbol,
                                "arrival_us": record.timestamp_us})[:-1]
    # JSON travels embedded unless whitespace around it would be lost (msgspec.Raw holds
    # the value without it): those values, and every non-JSON one, travel as base64
    if record.value and record.value.strip() == record.value and _is_json(record.value):
        return head + b',"trade":' + record.value + b"}"
    return head + b',"raw":"' + base64.b64encode(record.value) + b'"}'


def end_marker(last_seq: int) -> bytes:
    """The stream's last line for a finite feed."""
    return msgspec.json.encode({END_MARKER_FIELD: True, "last_seq": last_seq})
