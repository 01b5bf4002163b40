"""Schemathesis against a live server: 0 server errors and responses that match the documented schemas.

    .venv/bin/python tests/fuzz/schemathesis_live.py [--max-examples 10] [--seed 20261207] [--workers 2]

Run by ``.ci/run``. It migrates a fresh SQLite database under ``var/schemathesis/``, imports the bundled
plan, creates a bureau officer with an API token through the real services (the command-line path, as
an operator would), starts gunicorn on a free loopback port, runs schemathesis against
``/api/openapi.json`` with that token (checks ``not_a_server_error`` and ``response_schema_conformance``,
fixed seed, bounded examples per operation), stops the server and exits with schemathesis's status.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "var" / "schemathesis"
BIN = Path(sys.executable).parent

SETUP = """
from sciencecity.accounts import services
from sciencecity.accounts.choices import Role
from sciencecity.plans.services import plan_import_bundled
from sciencecity.registry.models import Organisation

plan_import_bundled()
user, one_time = services.user_create(actor=None, username="schemathesis", display_name="Schemathesis")
services.password_change(user=user, old_password=one_time, new_password="Fuzz!Live-Api-2026x")
services.role_grant(actor=None, user=user, role=Role.BUREAU_OFFICER,
                    organisation=Organisation.objects.get(code="GOV-KCJ"), reason="API fuzzing")
_token, raw = services.api_token_create(user=user, name="schemathesis")
print("TOKEN=" + raw)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the server did not answer {url} within {seconds:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=10)
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-failures", type=int, default=None)
    args = parser.parse_args()

    started = time.monotonic()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{WORK / 'db.sqlite3'}", "DEBUG": "0",
           "DJANGO_SETTINGS_MODULE": "sciencecity.config.base", "ALLOWED_HOSTS": "127.0.0.1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))}
    env.pop("REDIS_URL", None)
    python = [sys.executable, "-m", "sciencecity"]
    subprocess.run([*python, "migrate", "--no-input", "-v", "0"], env=env, check=True, cwd=ROOT)
    out = subprocess.run([*python, "shell", "-c", SETUP], env=env, check=True, cwd=ROOT, capture_output=True,
                         text=True).stdout
    token = next(line[6:] for line in out.splitlines() if line.startswith("TOKEN="))
    print(f"== data ready in {time.monotonic() - started:.0f} s", flush=True)

    port = _free_port()
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "sciencecity.config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--log-level", "warning", "--timeout", "60"],
        env={**env, "LOG_LEVEL": "ERROR"}, cwd=ROOT, start_new_session=True)  # 4xx lines would drown the report
    try:
        _wait(f"http://127.0.0.1:{port}/api/openapi.json")
        command = [
            str(BIN / "schemathesis"), "run", f"http://127.0.0.1:{port}/api/openapi.json",
            "--header", f"Authorization: Bearer {token}",
            "--checks", "not_a_server_error,response_schema_conformance",
            "--seed", str(args.seed), "--max-examples", str(args.max_examples), "--workers", str(args.workers),
            "--generation-database", "none", "--no-color", "--request-timeout", "30",
            "--report", "junit", "--report-dir", str(WORK / "report"),
        ]
        if args.max_failures:
            command += ["--max-failures", str(args.max_failures)]
        print("== " + " ".join(c if not c.startswith("Authorization") else "Authorization: Bearer …"
                                for c in command), flush=True)
        result = subprocess.run(command, cwd=WORK, env={**os.environ, "SCHEMATHESIS_TELEMETRY": "false"})
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    print(f"== schemathesis finished with status {result.returncode} in {time.monotonic() - started:.0f} s",
          flush=True)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
