"""Printing the order confirmation: the very PDF ``orders.pdf`` makes, through QPrintDialog.

PySide6-Essentials has no QtPdf, so pages are rasterised with PDFium (pypdfium2) at the
printer's resolution (capped at 300 dpi) and painted onto the QPrinter; preview and paper
therefore show exactly what the saved PDF shows.
"""

from __future__ import annotations

import pypdfium2 as pdfium
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPainter
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import QDialog, QWidget

MAX_DPI = 300


def _page_image(page: pdfium.PdfPage, dpi: int) -> QImage:
    bitmap = page.render(scale=dpi / 72, rev_byteorder=True, fill_color=(255, 255, 255, 255))
    formats = {
        "RGB": QImage.Format.Format_RGB888,
        "RGBA": QImage.Format.Format_RGBA8888,
        "RGBX": QImage.Format.Format_RGBX8888,
        "L": QImage.Format.Format_Grayscale8,
    }
    image = QImage(bitmap.buffer, bitmap.width, bitmap.height, bitmap.stride, formats[bitmap.mode])
    return image.copy()  # detach from PDFium's buffer before it is freed


def paint_pdf(printer: QPrinter, pdf: bytes) -> int:
    """Paint every page of ``pdf`` onto ``printer``; returns the number of pages painted."""
    doc = pdfium.PdfDocument(pdf)
    dpi = min(printer.resolution(), MAX_DPI)
    painter = QPainter()
    if not painter.begin(printer):
        raise RuntimeError("The printer could not be opened.")
    try:
        for n in range(len(doc)):
            if n:
                printer.newPage()
            image = _page_image(doc[n], dpi)
            target = QRectF(printer.pageLayout().paintRectPixels(printer.resolution()))
            target.moveTo(0, 0)
            scaled = image.size().scaled(target.size().toSize(), Qt.AspectRatioMode.KeepAspectRatio)
            painter.drawImage(QRectF(0, 0, scaled.width(), scaled.height()), image)
        return len(doc)
    finally:
        painter.end()
        doc.close()


def make_printer() -> QPrinter:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    printer.setPageOrientation(QPageLayout.Orientation.Portrait)
    printer.setFullPage(True)  # the PDF has its own margins
    return printer


class PrinterPreview(QPrintPreviewDialog):
    """A print preview that keeps its printer alive as long as it is open: the Qt dialog does
    not own it, and without this reference Python frees it when the caller returns and the
    preview paints on a deleted printer (a crash found by tests/gui/test_click_everything.py).
    What it paints is kept by the ``paintRequested`` slot's closure."""

    def __init__(self, printer: QPrinter, parent: QWidget | None) -> None:
        super().__init__(printer, parent)
        self.printer_ref = printer


def preview_and_print(pdf: bytes, title: str, parent: QWidget | None = None) -> QPrintPreviewDialog:
    """Open a print preview (with its print button) for ``pdf``; returns the open dialog."""
    printer = make_printer()
    printer.setDocName(title)
    dialog = PrinterPreview(printer, parent)
    dialog.setWindowTitle(f"Print — {title}")
    dialog.paintRequested.connect(lambda p: paint_pdf(p, pdf))
    dialog.open()
    return dialog


def print_directly(pdf: bytes, title: str, parent: QWidget | None = None) -> bool:
    """QPrintDialog, then print; False if the user cancelled."""
    printer = make_printer()
    printer.setDocName(title)
    dialog = QPrintDialog(printer, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return False
    paint_pdf(printer, pdf)
    return True
