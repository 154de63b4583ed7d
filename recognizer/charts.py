"""Small charts for the admin dashboard, drawn on the server as PNG (no JavaScript, no CDN)."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _


def accuracy_over_time_png(rows) -> bytes:
    """Accuracy per day as a line, with the number of labelled predictions as bars behind it.

    `rows` are selectors.AccuracyRow with a date as key, oldest first.
    """
    # The object-oriented API, not pyplot: no global figure state shared between requests, no GUI backend.
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 2.6), dpi=100, layout="constrained")
    counts_axis = figure.add_subplot()
    accuracy_axis = counts_axis.twinx()
    if rows:
        days = [row.key for row in rows]
        counts_axis.bar(days, [row.labelled for row in rows], color="#d9e6f2", width=0.8)
        accuracy_axis.plot(days, [100 * row.accuracy for row in rows], marker="o", color="#205067")
        locator = AutoDateLocator(maxticks=8)
        counts_axis.xaxis.set_major_locator(locator)
        counts_axis.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    else:
        counts_axis.text(
            0.5, 0.5, _("No labelled predictions yet"), ha="center", va="center", transform=counts_axis.transAxes
        )
    # The accuracy line in front of the count bars, on a fixed 0-100% scale so days compare at a glance.
    counts_axis.set_zorder(accuracy_axis.get_zorder() - 1)
    accuracy_axis.patch.set_visible(False)
    accuracy_axis.set_ylim(0, 105)
    accuracy_axis.set_ylabel(_("accuracy (%)"))
    counts_axis.set_ylabel(_("labelled"))
    counts_axis.yaxis.get_major_locator().set_params(integer=True)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
