"""Run notifications: logged always, posted to a webhook when one is configured, never fatal."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

from warehouse.notifications import notify_run


def failed_context():
    dag_run = SimpleNamespace(dag_id="pmo_nightly_refresh", run_id="scheduled__2026-11-29", state="failed")
    return {"dag_run": dag_run, "reason": "task_failure", "exception": RuntimeError("asana down")}


def test_the_outcome_is_logged(caplog):
    with caplog.at_level(logging.INFO):
        notify_run(failed_context())
    assert "scheduled__2026-11-29 ended failed" in caplog.text


def test_the_outcome_is_posted_to_the_webhook(monkeypatch):
    received = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("PMO_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{server.server_address[1]}/hook")
    notify_run(failed_context())
    server.shutdown()
    assert received[0]["state"] == "failed"
    assert received[0]["text"] == "pmo_nightly_refresh scheduled__2026-11-29: failed (task_failure)"
    assert received[0]["exception"] == "asana down"


def test_a_broken_webhook_is_logged_not_raised(monkeypatch, caplog):
    monkeypatch.setenv("PMO_ALERT_WEBHOOK_URL", "http://127.0.0.1:9/unreachable")
    with caplog.at_level(logging.ERROR):
        notify_run(failed_context())
    assert "could not post the run notification" in caplog.text
