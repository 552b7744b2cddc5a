"""Pure figure builders: theory result objects + view -> Plotly figure dict.

No Dash and no theory calls here; the callbacks compute, these draw. Every
figure carries ``layout.meta`` with the state key (the permalink query) and the
numbers drawn at the current point, so tests and benchmarks can check what the
page shows.
"""

from components.figures._common import as_array, message_figure, plain
from components.figures.memory import memory_figure
from components.figures.phase import TRACES_PER_PANEL, contour_updates, phase_figure, point_updates
from components.figures.spectrum import spectrum_figure

__all__ = [
    "TRACES_PER_PANEL",
    "as_array",
    "contour_updates",
    "memory_figure",
    "message_figure",
    "phase_figure",
    "point_updates",
    "plain",
    "spectrum_figure",
]
