"""Experiments that exercise the model on classic tasks from the literature."""
