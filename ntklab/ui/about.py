"""The About dialog: version, JAX backend and devices, and the libraries inside with their licenses."""

from __future__ import annotations

import html
import platform

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

from ntklab import __version__, appinfo


def about_html() -> str:
    backend, devices = appinfo.jax_summary()
    rows = "".join(
        f"<tr><td>{html.escape(lib.name)}</td><td>{html.escape(lib.version)}</td>"
        f"<td>{html.escape(lib.license)}</td></tr>"
        for lib in appinfo.libraries()
    )
    where = ("the <i>_internal</i> folder of the bundle, in each library's <i>.dist-info</i> folder "
             "(Qt's LGPL texts in <i>licenses/</i>)" if appinfo.frozen()
             else "each library's <i>.dist-info</i> folder in the Python environment")
    return (
        f"<h3>NTK Lab {__version__}</h3>"
        "<p>Neural networks in the kernel regime: a network, its linearization, and the infinite-width "
        "NTK and NNGP, side by side. MIT license.</p>"
        f"<p><b>JAX backend:</b> {html.escape(backend)} ({html.escape(devices)})<br>"
        f"<b>Python:</b> {platform.python_version()} on {html.escape(platform.platform(terse=True))}</p>"
        "<p><b>Libraries inside</b> (their license texts are in " + where + "):</p>"
        "<table cellspacing=4><tr><th align=left>library</th><th align=left>version</th>"
        f"<th align=left>license</th></tr>{rows}</table>"
        "<p>Qt and PySide6 are used under the LGPL-3.0: their libraries are separate files that can be "
        "replaced.</p>"
    )


class AboutDialog(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("About NTK Lab")
        self.resize(560, 560)
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(True)
        self.text.setHtml(about_html())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
