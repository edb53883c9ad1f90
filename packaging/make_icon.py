"""Draws the application icon (resources/ntklab.png, 256 px, and resources/ntklab.ico) with Qt.

Run once after changing the design: ``QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/make_icon.py``.
A kernel matrix as a 4 × 4 heatmap behind a network's fit of a sine: the lab in one picture.
"""

import math
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF, QRectF, Qt  # noqa: E402
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPainterPath, QPen  # noqa: E402

SIZE = 256
OUT = Path(__file__).resolve().parent.parent / "resources"


def draw(size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = size / 256
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#17324d"))
    p.drawRoundedRect(QRectF(8 * s, 8 * s, 240 * s, 240 * s), 44 * s, 44 * s)
    cell, origin = 40 * s, 48 * s
    for i in range(4):
        for j in range(4):
            value = math.exp(-((i - j) ** 2) / 2.5)  # a smooth kernel: large on the diagonal
            color = QColor.fromHsvF(0.55 - 0.42 * value, 0.75, 0.35 + 0.6 * value)
            p.setBrush(color)
            p.drawRoundedRect(QRectF(origin + j * cell + 2 * s, origin + i * cell + 2 * s, cell - 4 * s,
                                     cell - 4 * s), 6 * s, 6 * s)
    path = QPainterPath()
    for k in range(101):
        x = 30 * s + k * 196 * s / 100
        y = 128 * s - 62 * s * math.sin(2 * math.pi * k / 100 * 1.0)
        path.moveTo(x, y) if k == 0 else path.lineTo(x, y)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.setPen(QPen(QColor(255, 255, 255, 235), 12 * s, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    p.drawPath(path)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#ffb000"))
    for k in (8, 30, 52, 74, 92):
        x = 30 * s + k * 196 * s / 100
        y = 128 * s - 62 * s * math.sin(2 * math.pi * k / 100)
        p.drawEllipse(QPointF(x, y), 11 * s, 11 * s)
    p.end()
    return image


if __name__ == "__main__":
    app = QGuiApplication(sys.argv[:1])
    draw(SIZE).save(str(OUT / "ntklab.png"))
    draw(SIZE).save(str(OUT / "ntklab.ico"))
    print(f"wrote {OUT / 'ntklab.png'} and {OUT / 'ntklab.ico'}")
