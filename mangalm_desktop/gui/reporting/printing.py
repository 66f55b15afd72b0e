"""Printing a report with preview: the same title/filters/chart/table as the PDF, laid out by Qt
so it goes to any printer the OS knows, with the system's own page setup."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QMarginsF, QSizeF, QUrl
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QTextDocument
from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import QWidget

from ...domain import formatting as fmt
from ...domain.formatting import cell
from ...reports.catalog import ReportResult
from ..order_print import PrinterPreview

NUMERIC = {"money", "int", "pct", "float"}
WIDE_COLUMNS = 7


CHART_URL = "report-chart.png"


def report_html(result: ReportResult, with_chart: bool = False) -> str:
    df = result.frame
    kinds = result.kinds()
    filters = "; ".join(f"<b>{escape(k)}:</b> {escape(v)}" for k, v in result.filter_lines())
    head = "".join(f"<th>{escape(label)}</th>" for label in result.labels())
    rows = []
    for i, row in enumerate(df.itertuples(index=False, name=None)):
        bg = "#ffffff" if i % 2 == 0 else "#eef2f8"
        cells = []
        for v, c in zip(row, df.columns, strict=True):
            align = "right" if kinds[c] in NUMERIC else "left"
            cells.append(f'<td align="{align}">{escape(cell(v, kinds[c]))}</td>')
        rows.append(f'<tr style="background:{bg}">{"".join(cells)}</tr>')
    img = f'<p><img src="{CHART_URL}" width="640"></p>' if with_chart else ""
    return (
        "<html><body style='font-family:sans-serif; font-size:8pt'>"
        f"<h2>{escape(result.title)}</h2>"
        f"<p style='color:#444'>{filters or 'No filters'}<br>"
        f"Generated {fmt.day_time(result.generated_at)} {result.generated_at:%Z} · "
        f"{fmt.number(len(df))} rows</p>{img}"
        "<table border='0' cellspacing='0' cellpadding='3' width='100%'>"
        f"<thead><tr style='background:#2F5597; color:white'>{head}</tr></thead>"
        f"<tbody>{''.join(rows) or '<tr><td>No rows match these filters.</td></tr>'}</tbody>"
        "</table></body></html>"
    )


def build_document(result: ReportResult, chart: QImage | None = None) -> QTextDocument:
    doc = QTextDocument()
    if chart is not None:  # the document resolves <img> by name from its own resources
        doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(CHART_URL), chart)
    doc.setHtml(report_html(result, with_chart=chart is not None))
    return doc


def configure_printer(printer: QPrinter, result: ReportResult) -> None:
    wide = len(result.frame.columns) > WIDE_COLUMNS
    orientation = QPageLayout.Orientation.Landscape if wide else QPageLayout.Orientation.Portrait
    printer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            orientation,
            QMarginsF(12, 12, 12, 12),
            QPageLayout.Unit.Millimeter,
        )
    )
    printer.setDocName(result.title)


def print_to(printer: QPrinter, result: ReportResult, chart: QImage | None) -> None:
    doc = build_document(result, chart)
    rect = printer.pageLayout().paintRectPixels(printer.resolution())
    doc.setPageSize(QSizeF(rect.width(), rect.height()))
    doc.print_(printer)


def preview(parent: QWidget, result: ReportResult, chart: QImage | None) -> QPrintPreviewDialog:
    """Open the print preview (modal); printing goes to the printer chosen there."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    configure_printer(printer, result)
    dialog = PrinterPreview(printer, parent)
    dialog.setWindowTitle(f"Print preview — {result.title}")
    dialog.paintRequested.connect(lambda p: print_to(p, result, chart))
    return dialog
