"""The scale-out stack on one machine, on loopback: ``make stack`` (docs/deploy.md §7).

    .venv/bin/python scripts/stack.py [--port 8080] [--database-url postgres://…/sciencecity_stack] [--redis-url …]
                                      [--web 2] [--workers 2] [--gunicorn-workers 2] [--setup full|migrate|none]
    .venv/bin/python scripts/stack.py --check        # readiness of each part of the running stack

Starts, in this order, and supervises until Ctrl-C (or SIGTERM), which stops everything:

1. PostgreSQL: the running server of ``--database-url`` (default ``postgres://root@127.0.0.1:5432/
   sciencecity_stack``); the database is created when missing (``--fresh`` drops it first);
2. Redis: ``--redis-url`` when given, else a private ``redis-server`` on a free loopback port with its
   append-only file under ``var/stack/redis`` (a broker that loses its queue on a restart would lose jobs);
3. the database set up (``--setup full``: migrate, collectstatic, bootstrap; ``migrate``: migrate only);
4. ``--web`` gunicorn servers (``sciencecity.config.gunicorn``, ``--gunicorn-workers`` each) on free ports;
5. ``--workers`` job workers (``sciencecity worker`` with ``REDIS_URL`` set: the database queue or Celery,
   whichever the code runs);
6. the reverse proxy (``scripts/proxy.py``) on ``127.0.0.1:--port``, round robin over the servers that answer
   ``/healthz``.

All share ``SCIENCECITY_VAR_DIR`` (``var/stack``: secret key, uploads, job side files), as servers on one
machine do. A part that exits is started again after a second (as systemd's ``Restart=always`` would), so a
killed job worker comes back and queues again the job it was running. Logs: ``var/stack/logs/<part>.log``;
the running stack is described in ``var/stack/stack.json`` (ports, process ids), which ``--check`` reads.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_DATABASE_URL = "postgres://root@127.0.0.1:5432/sciencecity_stack"
RESTART_AFTER = 1.0  # seconds before a part that exited is started again


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port: int, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": "127.0.0.1"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def redis_ping(url: str, timeout: float = 2.0) -> bool:
    parts = urllib.parse.urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=timeout) as s:
            if parts.password:
                s.sendall(f"AUTH {parts.password}\r\n".encode())
                s.recv(64)
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def postgres_admin(url: str, sql: str) -> None:
    """Run ``sql`` on the server of ``url``, connected to its ``postgres`` database."""
    import psycopg

    admin = urllib.parse.urlsplit(url)._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


def postgres_ready(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            return conn.execute("SELECT 1").fetchone() == (1,)
    except psycopg.Error:
        return False


def database_name(url: str) -> str:
    name = urllib.parse.urlsplit(url).path.lstrip("/")
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"database name {name!r}: letters, digits and _ only")
    return name


@dataclass
class Part:
    """One supervised process."""
    name: str
    cmd: list[str]
    env: dict[str, str]
    port: int | None = None
    process: subprocess.Popen | None = None
    restarts: int = 0
    exited_at: float | None = None
    log: Path | None = None

    def start(self, logs: Path) -> None:
        self.log = logs / f"{self.name}.log"
        handle = self.log.open("ab")
        self.process = subprocess.Popen(self.cmd, env=self.env, cwd=ROOT, start_new_session=True,
                                        stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT)
        handle.close()
        self.exited_at = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)

    def wait_or_kill(self, deadline: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@dataclass
class Stack:
    args: argparse.Namespace
    parts: list[Part] = field(default_factory=list)
    stopping: bool = False

    def __post_init__(self) -> None:
        args = self.args
        self.var = Path(args.var_dir).resolve()
        self.logs = self.var / "logs"
        self.state_file = Path(args.state_file).resolve() if args.state_file else self.var / "stack.json"
        self.database_url = args.database_url
        self.redis_url = args.redis_url

    # --- environment shared by every Django process ------------------------------------------------
    def django_env(self) -> dict[str, str]:
        origins = f"http://127.0.0.1:{self.args.port},http://localhost:{self.args.port}"
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "sciencecity.config.base", "PYTHONPATH": str(ROOT / "src"),
               "SCIENCECITY_VAR_DIR": str(self.var), "DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url,
               "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1,localhost", "CSRF_TRUSTED_ORIGINS": origins,
               "TRUSTED_PROXY_COUNT": "1"}  # the proxy appends the client's address to X-Forwarded-For
        env.pop("JOBS_INLINE", None)
        return env

    def run_setup(self) -> None:
        env = self.django_env()
        sciencecity = [sys.executable, "-m", "sciencecity"]
        steps = {"full": [["migrate", "--noinput"], ["collectstatic", "--noinput", "-v", "0"],
                          ["bootstrap", "--demo-scale", self.args.demo_scale]],
                 "migrate": [["migrate", "--noinput", "-v", "0"]], "none": []}[self.args.setup]
        for step in steps:
            self.say(f"setup: sciencecity {' '.join(step)}")
            subprocess.run([*sciencecity, *step], env=env, cwd=ROOT, check=True)

    def say(self, text: str) -> None:
        print(f"[stack] {text}", flush=True)

    # --- the parts -----------------------------------------------------------------------------------
    def start_redis(self) -> None:
        if self.redis_url:
            if not redis_ping(self.redis_url):
                raise SystemExit(f"Redis at {self.redis_url} does not answer PING")
            return
        server = shutil.which("redis-server")
        if server is None:
            raise SystemExit("redis-server is not installed: install it or give --redis-url")
        port = self.args.redis_port or free_port()
        folder = self.var / "redis"
        folder.mkdir(parents=True, exist_ok=True)
        # appendonly: a restart keeps what was queued (Celery's broker); loopback only; no RDB snapshots
        part = Part("redis", [server, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
                              "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
                              "--protected-mode", "yes"], dict(os.environ), port=port)
        self.redis_url = f"redis://127.0.0.1:{port}/0"
        self.launch(part)
        self.wait(lambda: redis_ping(self.redis_url), part, 20)

    def start_database(self) -> None:
        name = database_name(self.database_url)
        if self.args.fresh:
            postgres_admin(self.database_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if not postgres_ready(self.database_url):
            self.say(f"creating database {name}")
            with contextlib.suppress(Exception):  # (another stack may have created it meanwhile)
                postgres_admin(self.database_url, f"CREATE DATABASE {name}")
        if not postgres_ready(self.database_url):
            raise SystemExit(f"PostgreSQL database {self.database_url} is not reachable")

    def web_part(self, index: int) -> Part:
        port = free_port()
        metrics = self.var / "metrics" / f"web{index}"
        env = {**self.django_env(), "GUNICORN_BIND": f"127.0.0.1:{port}",
               "GUNICORN_WORKERS": str(self.args.gunicorn_workers), "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
        cmd = [str(BIN / "gunicorn"), "-c", "python:sciencecity.config.gunicorn", "sciencecity.config.wsgi"]
        return Part(f"web{index}", cmd, env, port=port)

    def worker_part(self, index: int) -> Part:
        return Part(f"worker{index}", [sys.executable, "-m", "sciencecity", "worker"], self.django_env())

    def proxy_part(self, webs: list[Part]) -> Part:
        cmd = [sys.executable, str(ROOT / "scripts" / "proxy.py"), "--listen", f"127.0.0.1:{self.args.port}",
               *[arg for web in webs for arg in ("--upstream", f"{web.name}=127.0.0.1:{web.port}")]]
        return Part("proxy", cmd, dict(os.environ), port=self.args.port)

    def launch(self, part: Part) -> None:
        part.start(self.logs)
        self.parts.append(part)
        self.say(f"{part.name} started (pid {part.pid}{f', port {part.port}' if part.port else ''})")
        self.write_state(ready=False)  # --check shows the parts started so far

    def wait(self, ready, part: Part, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not part.alive():
                raise SystemExit(f"{part.name} exited during start; see {part.log}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if ready():
                    return
            time.sleep(0.2)
        raise SystemExit(f"{part.name} not ready after {seconds:.0f} s; see {part.log}")

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        self.start_database()
        self.start_redis()
        self.run_setup()
        webs = [self.web_part(i + 1) for i in range(self.args.web)]
        for web in webs:
            self.launch(web)
        for web in webs:
            self.wait(lambda web=web: http_get(web.port, "/healthz")[0] == 200, web, 180)
        for i in range(self.args.workers):
            self.launch(self.worker_part(i + 1))
        proxy = self.proxy_part(webs)
        self.launch(proxy)

        def all_up() -> bool:
            status, body = http_get(proxy.port, "/__proxy__/status")
            return status == 200 and all(u["up"] for u in json.loads(body)["upstreams"])

        self.wait(all_up, proxy, 30)
        self.write_state(ready=True)
        self.say(f"ready: http://127.0.0.1:{self.args.port}/  (Ctrl-C stops everything; "
                 f"`{Path(sys.executable).name} scripts/stack.py --check` shows each part)")

    def write_state(self, *, ready: bool) -> None:
        state = {"ready": ready, "pid": os.getpid(), "proxy_port": self.args.port, "database_url": self.database_url,
                 "redis_url": self.redis_url, "var_dir": str(self.var),
                 "parts": {p.name: {"pid": p.pid, "port": p.port, "restarts": p.restarts, "log": str(p.log)}
                           for p in self.parts}}
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(state, indent=1))
        temporary.replace(self.state_file)

    def supervise(self) -> None:
        """Start again every part that exited (one second later), until asked to stop."""
        while not self.stopping:
            changed = False
            for part in self.parts:
                if part.alive() or self.stopping:
                    continue
                now = time.monotonic()
                if part.exited_at is None:
                    part.exited_at = now
                    self.say(f"{part.name} (pid {part.pid}) exited with {part.process.returncode}; "
                             f"starting it again in {RESTART_AFTER:.0f} s")
                elif now - part.exited_at >= RESTART_AFTER:
                    part.restarts += 1
                    part.start(self.logs)
                    changed = True
                    self.say(f"{part.name} started again (pid {part.pid})")
            if changed:
                self.write_state(ready=True)
            time.sleep(0.2)

    def stop(self) -> None:
        self.stopping = True
        for sig in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not leave parts behind
            signal.signal(sig, signal.SIG_IGN)
        # the entrance first, then the servers, then the workers (they finish their job), Redis last;
        # the parts of one tier stop together
        tiers = {"proxy": 0, "web": 1, "worker": 2, "redis": 3}
        for tier in sorted(set(tiers.values())):
            parts = [p for p in self.parts if tiers.get(p.name.rstrip("0123456789"), 3) == tier]
            for part in parts:
                part.terminate()
            deadline = time.monotonic() + (self.args.stop_grace if tier == tiers["worker"] else 15)
            for part in parts:
                part.wait_or_kill(deadline)
        self.state_file.unlink(missing_ok=True)
        self.say("stopped")


def check(args: argparse.Namespace) -> int:
    """Print the readiness of each part of the running stack; 0 when every part is ready."""
    var = Path(args.var_dir).resolve()
    state_file = Path(args.state_file).resolve() if args.state_file else var / "stack.json"
    if not state_file.exists():
        print(f"no stack running ({state_file} not found)")
        return 1
    state = json.loads(state_file.read_text())
    rows: list[tuple[str, bool, str]] = []
    if not state["ready"]:
        rows.append(("stack", False, f"still starting (pid {state['pid']})"))

    def pid_alive(pid: int | None) -> bool:
        try:
            os.kill(pid or 0, 0) if pid else None
            return bool(pid)
        except ProcessLookupError:
            return False

    rows.append(("postgresql", postgres_ready(state["database_url"]), state["database_url"]))
    rows.append(("redis", redis_ping(state["redis_url"]), state["redis_url"]))
    for name, part in state["parts"].items():
        if name.startswith("web"):
            try:
                live, _ = http_get(part["port"], "/healthz")
                ready, body = http_get(part["port"], "/readyz", timeout=10)
                failed = [k for k, v in json.loads(body).get("checks", {}).items()
                          if isinstance(v, dict) and v.get("ok") is False]
                rows.append((name, live == 200 and ready == 200,
                             f"port {part['port']}: /healthz {live}, /readyz {ready}"
                             + (f" ({', '.join(failed)})" if failed else "")))
            except (OSError, http.client.HTTPException, ValueError) as exc:
                rows.append((name, False, f"port {part['port']}: {exc}"))
        elif name.startswith("worker"):
            rows.append((name, pid_alive(part["pid"]), f"pid {part['pid']}, restarts {part['restarts']}"))
    try:
        if "proxy" not in state["parts"]:
            raise OSError("not started yet")
        status, body = http_get(state["proxy_port"], "/__proxy__/status")
        upstreams = json.loads(body)["upstreams"]
        served, _ = http_get(state["proxy_port"], "/healthz")
        rows.append(("proxy", status == 200 and served == 200 and all(u["up"] for u in upstreams),
                     f"port {state['proxy_port']}: " + ", ".join(
                         f"{u['name']} {'up' if u['up'] else 'DOWN'} ({u['requests']} requests)" for u in upstreams)))
    except (OSError, http.client.HTTPException, ValueError) as exc:
        rows.append(("proxy", False, f"port {state['proxy_port']}: {exc}"))
    for name, ok, detail in rows:
        print(f"{name:12s} {'ready' if ok else 'NOT READY':9s} {detail}")
    return 0 if all(ok for _n, ok, _d in rows) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="print the readiness of the running stack and exit")
    parser.add_argument("--port", type=int, default=8080, help="the proxy's loopback port (default 8080)")
    parser.add_argument("--database-url", default=os.environ.get("STACK_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--fresh", action="store_true", help="drop and create the database first")
    parser.add_argument("--redis-url", default="", help="use this Redis instead of starting a private one")
    parser.add_argument("--redis-port", type=int, default=0, help="port of the private Redis (default: a free one)")
    parser.add_argument("--web", type=int, default=2, help="gunicorn servers (default 2)")
    parser.add_argument("--gunicorn-workers", type=int, default=2, help="workers per gunicorn server (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="job workers (default 2)")
    parser.add_argument("--setup", choices=["full", "migrate", "none"], default="full",
                        help="full: migrate, collectstatic, bootstrap (default); migrate: migrate only")
    parser.add_argument("--demo-scale", default="small", choices=["none", "small", "city"],
                        help="bootstrap's demo data (with --setup full)")
    parser.add_argument("--var-dir", default=str(ROOT / "var" / "stack"), help="shared state folder")
    parser.add_argument("--state-file", default="", help="where the running stack is described (default var-dir)")
    parser.add_argument("--stop-grace", type=float, default=30.0,
                        help="seconds a job worker has to finish its job when stopping")
    args = parser.parse_args(argv)
    if args.check:
        return check(args)
    if not 1 <= args.web <= 8 or not 0 <= args.workers <= 8:
        parser.error("--web 1–8, --workers 0–8")
    stack = Stack(args)

    def on_signal(signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)  # also when started in the background (SIGINT ignored there)
    try:
        stack.start()
        stack.supervise()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
