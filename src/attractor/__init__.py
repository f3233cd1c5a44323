"""Attractor: multi-stage AI workflows written as Graphviz DOT graphs, on an event-sourced core.

The public API is re-exported here once; `__all__` is sorted and checked by a test.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("attractor")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
