"""Printing an HTML page to PDF with a headless Chromium, the browser CI already has.

A letter is HTML with print CSS (page size, margins, page breaks, the address block where an
envelope's window is); a browser lays it out exactly as it prints, so tierflow asks one to
print it rather than carry a second layout engine. Chromium runs without network access to
anything but the file given (``--disable-background-networking``), in a throwaway profile, with
a time limit; the page it prints is tierflow's own output, its values escaped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tierflow.notices import NoticeError

__all__ = ["find_chromium", "print_pdf"]

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """The Chromium to print with: ``$TIERFLOW_CHROMIUM``, else the first on ``PATH``, else None."""
    configured = os.environ.get("TIERFLOW_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else None
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def print_pdf(page: Path, pdf: Path, *, chromium: str | None = None, timeout: float = 300) -> Path:
    """Print the HTML file ``page`` to ``pdf`` and return ``pdf``.

    Args:
        page: An HTML file (its own CSS decides paper, margins and page breaks).
        pdf: Where to write the PDF (replaced if it exists).
        chromium: The browser's path (default: :func:`find_chromium`).
        timeout: Seconds before the browser is stopped.

    Raises:
        NoticeError: No browser was found, it failed or timed out, or it wrote no PDF.
    """
    browser = chromium or find_chromium()
    if browser is None:
        raise NoticeError(
            "no Chromium to print PDF with: install chromium (Debian: apt-get install chromium), "
            "or set TIERFLOW_CHROMIUM to its path"
        )
    pdf = pdf.resolve()
    pdf.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="tierflow-chromium-") as profile:
        cmd = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            page.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise NoticeError(f"printing {page.name} to PDF failed: {exc}") from exc
    if done.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise NoticeError(
            f"printing {page.name} to PDF failed (exit {done.returncode}): {' | '.join(tail)}"
        )
    return pdf
