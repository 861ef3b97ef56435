"""How a nightly run tells people it ended: a pluggable callback for DAG success and failure.

By default the outcome is logged. Set `PMO_ALERT_WEBHOOK_URL` to also POST a JSON summary
(Slack- and Teams-style incoming webhooks accept the `text` field), or point
`PMO_RUN_CALLBACK` at another `module:function` taking the Airflow context.
"""

from __future__ import annotations

import importlib
import logging
import os
from typing import Any

import requests

log = logging.getLogger(__name__)


def run_summary(context: dict[str, Any]) -> dict[str, Any]:
    dag_run = context.get("dag_run")
    state = str(getattr(dag_run, "state", "") or context.get("reason") or "unknown")
    return {
        "dag_id": getattr(dag_run, "dag_id", None) or getattr(context.get("dag"), "dag_id", None),
        "run_id": getattr(dag_run, "run_id", None),
        "state": state.rsplit(".", 1)[-1].lower(),
        "reason": context.get("reason"),
        "exception": str(context["exception"]) if context.get("exception") else None,
    }


def post_webhook(url: str, summary: dict[str, Any]) -> None:
    text = f"{summary['dag_id']} {summary['run_id']}: {summary['state']}"
    if summary.get("reason"):
        text += f" ({summary['reason']})"
    try:
        response = requests.post(url, json={"text": text, **summary}, timeout=10)
        response.raise_for_status()
    except requests.RequestException as error:
        # A broken alert channel must not hide the run's own outcome.
        log.error("could not post the run notification to the webhook: %s", error)


def notify_run(context: dict[str, Any]) -> None:
    """Log the run's outcome and send it to the configured channels."""
    summary = run_summary(context)
    level = logging.INFO if summary["state"] == "success" else logging.ERROR
    log.log(level, "nightly run %s ended %s: %s", summary["run_id"], summary["state"], summary.get("reason") or "")
    webhook = os.environ.get("PMO_ALERT_WEBHOOK_URL")
    if webhook:
        post_webhook(webhook, summary)
    custom = os.environ.get("PMO_RUN_CALLBACK")
    if custom:
        module_name, _, function_name = custom.partition(":")
        getattr(importlib.import_module(module_name), function_name)(context)
