"""Connectors that pull project data from the tools teams work in and land it as raw JSON in the warehouse."""
