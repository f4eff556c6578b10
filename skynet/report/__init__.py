"""Outputs for people: the route map (PNG, drawn offline) and the self-contained HTML report."""
