"""Errors of ``candles klines check`` (both terminal: fix the file, the flags or the data)."""

from __future__ import annotations

from pathlib import Path

from candle_core.exceptions import TerminalError
from reconciliation.exceptions import ReconciliationError


class KlinesFileError(ReconciliationError, TerminalError):
    """The klines file (or a line of it) is not Binance's 12-column layout, or does not
    agree with the flags; names the file, the line (0: the whole file) and the problem."""

    def __init__(self, path: Path | str, line: int, problem: str) -> None:
        self.path, self.line, self.problem = Path(path), line, problem
        where = f"{self.path}:{line}" if line else str(self.path)
        super().__init__(f"{where}: {problem}")


class BatchCandlesMissingError(ReconciliationError, TerminalError):
    """No batch candles at all for dates the klines cover: the batch has not run there."""

    def __init__(self, root: str, interval: str, dates: list[str]) -> None:
        self.root, self.interval, self.dates = root, interval, dates
        runs = "; ".join(f"candles batch --date {date}" for date in dates)
        super().__init__(f"no {interval} batch candles under {root} for {', '.join(dates)}: "
                         f"run {runs} (or check --root)")
