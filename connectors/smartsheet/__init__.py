"""Smartsheet connector: the PMO's portfolio register, rate card and project-plan sheets into `raw`."""
