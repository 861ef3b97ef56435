"""Local stand-ins for the PMO's source tools, all serving one generated world.

`simulators.world` builds the world (people, the portfolio register, the rate card and each tool's
data); `simulators.jira` serves its Jira site over HTTP the way Jira Cloud does; `python -m simulators`
runs them from the command line.
"""
