"""Asana connector: portfolios, projects, tasks with subtasks, time tracking and status updates (REST 1.0)."""
