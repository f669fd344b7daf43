"""Segmentation policy: zones and conduits, checks of observed communications, IT-to-OT pathways."""

DEFAULT_WINDOW_S = 24 * 3600.0  # a pivot chain's hops must each start within this long after the previous one
DEFAULT_MAX_HOPS = 6  # longest path searched
