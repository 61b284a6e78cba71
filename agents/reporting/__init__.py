"""Reporting shared by every study: atomic files, tables and number formats, summary statistics,
plots.

Each study measures its own runs (``agentbed.agents.market.metrics``,
``agentbed.agents.economy.metrics``) and writes them with these pieces, so the output shape
(CSV tables, a sorted ``summary.json``, PNG plots, ``report.md``) is the same for all of them:

* :mod:`.files`: files written all at once or not at all; the ``summary.json`` text.
* :mod:`.tables`: CSV and Markdown tables, number formats, the per-block chain columns.
* :mod:`.stats`: mean, quantile and the inclusion-delay summary.
* :mod:`.intervals`: means with Student t-intervals, and seed-paired differences.
* :mod:`.seeds`: comparisons over seeds: headline metrics per label, their intervals and
  paired differences against a baseline, and the words a report states them in.
* :mod:`.plots`: figures (matplotlib, imported only when a plot is drawn, so it may be absent),
  the chain plots every study draws, and the faceted plots of a comparison over seeds.
"""
