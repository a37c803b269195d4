"""Charts and the committee report (HTML and PDF), drawn only from the saved tables of a results folder.

``build_report(folder)`` writes ``charts/*.png|svg``, ``report.html`` (self-contained) and
``report.pdf`` into a run, compare or sweep output folder, replacing its own earlier files.
Plotting uses matplotlib's Agg canvas directly, never pyplot, so it works without a display
and leaves the caller's matplotlib backend alone.
"""

from __future__ import annotations

from .build import CHART_NAMES, build_content, build_report

__all__ = ["CHART_NAMES", "build_content", "build_report"]
