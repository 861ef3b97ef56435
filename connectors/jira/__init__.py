"""Jira Cloud connector: projects, issues and worklogs over REST v3."""
