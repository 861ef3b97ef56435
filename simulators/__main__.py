"""Command line for the simulators: run Jira, Asana and Smartsheet in the foreground or as a background service.

    python -m simulators serve [--port 8081] [--anchor-date YYYY-MM-DD] [--seed N]
    python -m simulators start [--state-dir .local/simulators] [same options as serve]
    python -m simulators status [--state-dir ...]
    python -m simulators stop [--state-dir ...]

`serve` runs until SIGTERM or SIGINT. `start` runs `serve` detached, with its pid file and log file in
the state directory, and returns once the port answers; `stop` ends it. Both are idempotent.
One process serves the same generated world through all three tools: Jira on --port
($JIRA_SIMULATOR_PORT, 8081), Asana on --asana-port ($ASANA_SIMULATOR_PORT, 8082; its API under
/api/1.0) and Smartsheet on --smartsheet-port ($SMARTSHEET_SIMULATOR_PORT, 8083; under /2.0); a port
of 0 leaves that tool out. Credentials default to $JIRA_EMAIL / $JIRA_API_TOKEN, $ASANA_TOKEN and
$SMARTSHEET_TOKEN, and the injected faults (see `simulators.faults`) to $JIRA_SIMULATOR_FAULTS,
$ASANA_SIMULATOR_FAULTS and $SMARTSHEET_SIMULATOR_FAULTS.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

DEFAULT_PORT = 8081
DEFAULT_EMAIL = "pmo-bot@pmo.example"
DEFAULT_API_TOKEN = "sim-token"
DEFAULT_ASANA_PORT = 8082
DEFAULT_ASANA_TOKEN = "asana-sim-token"
DEFAULT_SMARTSHEET_PORT = 8083
DEFAULT_SMARTSHEET_TOKEN = "smartsheet-sim-token"
DEFAULT_STATE_DIR = Path(".local/simulators")
SERVER_HEADER_PREFIX = "jira-simulator/"
NOT_RUNNING_EXIT_CODE = 3


def _default_port(variable: str = "JIRA_SIMULATOR_PORT", default: int = DEFAULT_PORT) -> int:
    value = os.environ.get(variable)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"{variable} must be a port number, not {value!r}") from None


def _add_server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None, help="Jira's port (default: $JIRA_SIMULATOR_PORT or 8081)")
    parser.add_argument("--asana-port", type=int, default=None, help="default: $ASANA_SIMULATOR_PORT or 8082")
    parser.add_argument("--smartsheet-port", type=int, default=None, help="default: $SMARTSHEET_SIMULATOR_PORT or 8083")
    parser.add_argument("--anchor-date", type=date.fromisoformat, default=None, help="the world's today (UTC)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--email", default=None, help="default: $JIRA_EMAIL or " + DEFAULT_EMAIL)
    parser.add_argument("--api-token", default=None, help="default: $JIRA_API_TOKEN or the simulator's token")
    parser.add_argument("--user-time-zone", default="Australia/Sydney", help="time zone of the token's user")
    parser.add_argument(
        "--changes-night",
        type=int,
        default=None,
        help="apply nights 1..N of edits, deletes and new items at start-up (default: $SIMULATOR_CHANGES_NIGHT or 0)",
    )
    parser.add_argument(
        "--faults",
        default=None,
        help="faults to inject, e.g. 'rate_limit:2,unavailable:1@/search' (default: $JIRA_SIMULATOR_FAULTS)",
    )


def _add_state_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR, help="where the pid and log files live")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m simulators", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the Jira simulator in the foreground")
    _add_server_options(serve)
    serve.add_argument("--log-level", default="WARNING")
    start = commands.add_parser("start", help="run the Jira simulator in the background")
    _add_server_options(start)
    _add_state_options(start)
    start.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the port to answer")
    stop = commands.add_parser("stop", help="stop the background Jira simulator")
    _add_state_options(stop)
    stop.add_argument("--timeout", type=float, default=10.0, help="seconds to wait before killing it")
    status = commands.add_parser("status", help="say whether the background Jira simulator runs")
    _add_state_options(status)
    return parser


def _resolve_server_options(args: argparse.Namespace) -> None:
    args.port = _default_port() if args.port is None else args.port
    if args.asana_port is None:
        args.asana_port = _default_port("ASANA_SIMULATOR_PORT", DEFAULT_ASANA_PORT)
    if args.smartsheet_port is None:
        args.smartsheet_port = _default_port("SMARTSHEET_SIMULATOR_PORT", DEFAULT_SMARTSHEET_PORT)
    args.email = args.email or os.environ.get("JIRA_EMAIL") or DEFAULT_EMAIL
    args.api_token = args.api_token or os.environ.get("JIRA_API_TOKEN") or DEFAULT_API_TOKEN
    args.faults = args.faults if args.faults is not None else os.environ.get("JIRA_SIMULATOR_FAULTS", "")


def serve(args: argparse.Namespace) -> int:
    from simulators.faults import FaultPlan
    from simulators.jira import JiraSimulator
    from simulators.world import WorldConfig, build_world

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config_values: dict[str, object] = {"scale": args.scale}
    if args.seed is not None:
        config_values["seed"] = args.seed
    if args.anchor_date is not None:
        config_values["anchor_date"] = args.anchor_date
    try:
        faults = FaultPlan.parse(args.faults)
    except ValueError as error:
        print(f"--faults: {error}", file=sys.stderr, flush=True)
        return 2
    for port in (args.port, args.asana_port, args.smartsheet_port):
        problem = _port_problem(args.host, port) if port else None
        if problem:
            print(f"cannot listen on {args.host}:{port}: {problem}", file=sys.stderr, flush=True)
            return 1
    from simulators.world import SCALES

    if args.scale not in SCALES:
        print(f"--scale: unknown scale {args.scale!r}; known: {', '.join(SCALES)}", file=sys.stderr, flush=True)
        return 2
    nights = args.changes_night
    if nights is None:
        nights = int(os.environ.get("SIMULATOR_CHANGES_NIGHT") or 0)
    if nights and SCALES[args.scale].streamed_jira:
        print(
            f"--changes-night: the {args.scale} Jira site is served read-only from disk; nights of changes need"
            " the demo or large scale",
            file=sys.stderr,
            flush=True,
        )
        return 2
    world = build_world(WorldConfig(**config_values))  # type: ignore[arg-type]

    stop_requested = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop_requested.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    simulator = JiraSimulator(
        world,
        host=args.host,
        port=args.port,
        email=args.email,
        api_token=args.api_token,
        user_time_zone=args.user_time_zone,
        faults=faults,
    )
    simulators: list[tuple[str, object, str]] = [("Jira", simulator, "")]
    if args.asana_port:
        from simulators.asana import AsanaSimulator

        asana = AsanaSimulator(
            world,
            host=args.host,
            port=args.asana_port,
            token=os.environ.get("ASANA_TOKEN") or DEFAULT_ASANA_TOKEN,
            faults=FaultPlan.parse(os.environ.get("ASANA_SIMULATOR_FAULTS")),
        )
        simulators.append(("Asana", asana, "/api/1.0"))
    if args.smartsheet_port:
        from simulators.smartsheet import SmartsheetSimulator

        smartsheet = SmartsheetSimulator(
            world,
            host=args.host,
            port=args.smartsheet_port,
            token=os.environ.get("SMARTSHEET_TOKEN") or DEFAULT_SMARTSHEET_TOKEN,
            faults=FaultPlan.parse(os.environ.get("SMARTSHEET_SIMULATOR_FAULTS")),
        )
        simulators.append(("Smartsheet", smartsheet, "/2.0"))
    if nights:
        from simulators.changes import apply_night_changes

        servers = {name.lower(): server for name, server, _ in simulators}
        for night in range(1, nights + 1):
            apply_night_changes(night, **servers)
        print(f"applied {nights} night(s) of changes", flush=True)
    started = []
    try:
        for name, server, api_path in simulators:
            server.start()  # type: ignore[attr-defined]
            started.append(server)
            print(f"{name} simulator listening on {server.url}{api_path}", flush=True)  # type: ignore[attr-defined]
    except OSError as error:
        print(f"cannot listen: {error}", file=sys.stderr, flush=True)
        for server in started:
            server.stop()  # type: ignore[attr-defined]
        return 1
    try:
        while not stop_requested.wait(0.5):
            pass
    finally:
        for server in started:
            server.stop()  # type: ignore[attr-defined]
    return 0


def _port_problem(host: str, port: int) -> str | None:
    """Why the port can't be served (checked before the world is built, to fail fast), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            return str(error)
    return None


class _State:
    """The pid, URL and log files of the background simulator."""

    def __init__(self, state_dir: Path) -> None:
        self.dir = state_dir
        self.pid_file = state_dir / "jira.pid"
        self.url_file = state_dir / "jira.url"
        self.log_file = state_dir / "jira.log"

    def running_pid(self) -> int | None:
        """The recorded pid if that process still runs the simulator; clears stale files otherwise."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            self.clear()
            return None
        if _is_simulator_process(pid):
            return pid
        self.clear()
        return None

    def url(self) -> str:
        try:
            return self.url_file.read_text().strip()
        except FileNotFoundError:
            return "(unknown URL)"

    def clear(self) -> None:
        self.pid_file.unlink(missing_ok=True)
        self.url_file.unlink(missing_ok=True)


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        # a zombie (exited, not yet reaped) counts as gone
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return not stat.parent.exists()


def _is_simulator_process(pid: int) -> bool:
    if not _is_alive(pid):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    try:
        return b"simulators" in cmdline.read_bytes()
    except FileNotFoundError:
        return not cmdline.parent.exists()


def _answers_as_simulator(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/rest/api/3/serverInfo", timeout=1) as response:
            server = response.headers.get("Server", "")
    except urllib.error.HTTPError as error:
        server = error.headers.get("Server", "")
    except (OSError, ValueError):
        return False
    return server.startswith(SERVER_HEADER_PREFIX)


def start(args: argparse.Namespace) -> int:
    state = _State(args.state_dir)
    pid = state.running_pid()
    if pid is not None:
        print(f"Jira simulator already running at {state.url()} (pid {pid})")
        return 0
    state.dir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "simulators", "serve", "--host", args.host, "--port", str(args.port)]
    command += ["--asana-port", str(args.asana_port), "--smartsheet-port", str(args.smartsheet_port)]
    command += ["--scale", args.scale, "--user-time-zone", args.user_time_zone]
    if args.seed is not None:
        command += ["--seed", str(args.seed)]
    if args.anchor_date is not None:
        command += ["--anchor-date", args.anchor_date.isoformat()]
    if args.faults:
        command += ["--faults", args.faults]
    if args.changes_night:
        command += ["--changes-night", str(args.changes_night)]
    package_root = str(Path(__file__).resolve().parent.parent)
    environment = {
        **os.environ,
        "JIRA_EMAIL": args.email,
        "JIRA_API_TOKEN": args.api_token,
        "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])),
        "PYTHONUNBUFFERED": "1",
    }
    with state.log_file.open("ab") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=environment,
            start_new_session=True,
        )
    url = f"http://{args.host}:{args.port}"
    state.pid_file.write_text(f"{process.pid}\n")
    state.url_file.write_text(f"{url}\n")

    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        exit_code = process.poll()
        if exit_code is not None:
            state.clear()
            print(
                f"Jira simulator exited with code {exit_code} before answering on {url}; see {state.log_file}",
                file=sys.stderr,
            )
            return 1
        if _answers_as_simulator(url):
            print(f"Jira simulator running at {url} (pid {process.pid}); log: {state.log_file}")
            return 0
        time.sleep(0.1)
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
    state.clear()
    print(f"Jira simulator did not answer on {url} within {args.timeout:g} s; see {state.log_file}", file=sys.stderr)
    return 1


def stop(args: argparse.Namespace) -> int:
    state = _State(args.state_dir)
    pid = state.running_pid()
    if pid is None:
        print("Jira simulator is not running")
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + args.timeout
    while _is_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _is_alive(pid):
        os.kill(pid, signal.SIGKILL)
    state.clear()
    print(f"Jira simulator stopped (pid {pid})")
    return 0


def status(args: argparse.Namespace) -> int:
    state = _State(args.state_dir)
    pid = state.running_pid()
    if pid is None:
        print("Jira simulator is not running")
        return NOT_RUNNING_EXIT_CODE
    print(f"Jira simulator running at {state.url()} (pid {pid})")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command in ("serve", "start"):
        _resolve_server_options(args)
    return {"serve": serve, "start": start, "stop": stop, "status": status}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
