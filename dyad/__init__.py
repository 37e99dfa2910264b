"""dyad: how mirror neurons for facial expressions develop through infant-parent interaction."""

__version__ = "0.1.0"
