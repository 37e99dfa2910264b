"""One module per ``dyad`` command."""
