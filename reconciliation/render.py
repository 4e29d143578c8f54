"""The one-screen terminal summary of a reconciliation (rich tables)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from storage.reconcile_report import ReconcileReport, WorstCandle

VERDICT_STYLE = {"ok": "bold green", "breach": "bold yellow", "critical": "bold red"}
VERDICT_TEXT = {
    "ok": "no candle drifts beyond the threshold",
    "breach": "drift beyond the threshold, every difference explained by the archive",
    "critical": "some differences have no cause in the archive (lost data or a bug)",
}


def percent(value: float) -> str:
    return "0" if value == 0 else f"{value * 100:.3g}%"


def render(console: Console, report: ReconcileReport, max_rows: int = 20) -> None:
    """Print the per symbol/interval table, the worst candles and the verdict."""
    groups = sorted(report.groups, key=lambda g: (-g.max_candle_drift, g.symbol))
    threshold = percent(float(report.threshold))
    table = Table(title=f"reconcile {report.date} (threshold {threshold})")
    for name in ("symbol", "int.", "compared", "exact", "drifted", "no speed", "no batch",
                 "> thr.", "unexpl.", "revised", "max drift", "late/dlq/dup"):
        table.add_column(name, justify="left" if name in ("symbol", "int.") else "right",
                         no_wrap=name in ("symbol", "max drift"))
    for group in groups[:max_rows]:
        causes = group.attributed
        style = "red" if group.unexplained else "yellow" if group.breached else None
        table.add_row(group.symbol, group.interval, f"{group.compared:,}",
                      f"{group.exact:,}", f"{group.drifted:,}",
                      f"{group.missing_speed:,}", f"{group.missing_batch:,}",
                      f"{group.breached:,}", f"{group.unexplained:,}", f"{group.revised:,}",
                      percent(group.max_candle_drift),
                      f"{causes['late']}/{causes['dlq']}/{causes['duplicate']}", style=style)
    if len(groups) > max_rows:
        table.caption = f"{len(groups) - max_rows} more groups in the JSON report"
    console.print(table)
    _worst(console, report.worst[:5])
    totals = report.totals
    verdict = report.verdict.value
    console.print(
        f"{totals.compared:,} compared, {totals.exact:,} exact, {totals.drifted:,} "
        f"drifted, {totals.missing_speed:,} missing in speed, {totals.missing_batch:,} "
        f"missing in batch; {totals.breached:,} over the threshold, "
        f"{totals.unexplained:,} unexplained; {totals.revised:,} speed candles revised "
        "(their latest revision compared)")
    console.print(f"verdict: [{VERDICT_STYLE[verdict]}]{verdict.upper()}[/] — "
                  f"{VERDICT_TEXT[verdict]}")


def _worst(console: Console, worst: list[WorstCandle]) -> None:
    if not worst:
        return
    table = Table(title="worst candles")
    for name in ("symbol", "interval", "window start", "match", "drift", "causes",
                 "explained"):
        table.add_column(name)
    for candle in worst:
        causes = ", ".join(f"{k} {v}" for k, v in candle.causes.items() if v) or "none"
        table.add_row(candle.symbol, candle.interval, candle.window_start,
                      candle.match, percent(candle.drift), causes,
                      "yes" if candle.explained else "[red]no[/]")
    console.print(table)
