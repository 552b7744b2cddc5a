"""Dash user interface of the RNN Phase Explorer.

Nothing here computes theory: callbacks parse control values into a
:class:`components.viewstate.ViewState`, call the :mod:`theory` API (through the
cache in :mod:`components.compute`) and hand the results to the pure figure
builders of :mod:`components.figures`. This package never imports numba.
"""
