"""Analysis of logged runs: classification, information measures, figures."""
