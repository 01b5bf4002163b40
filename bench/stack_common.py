"""The loopback stack (``scripts/stack.py``) run as a child process, for its smoke test and ``bench/fault.py``.

Not a benchmark itself (``make bench`` skips it). :class:`StackRun` starts the stack exactly as ``make stack``
does, on a database of its own, waits for it to be ready, seeds what the traffic needs (an officer and an
enterprise user with API tokens, calls under review with applications and experts) and stops it; the traffic
goes through the proxy with plain ``http.client``.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_SERVER = "postgres://root@127.0.0.1:5432"
sys.path.insert(0, str(ROOT / "scripts"))
import stack as stack_script  # noqa: E402

SEED = r"""
import datetime as dt, json, os, django
from decimal import Decimal
django.setup()
from sciencecity.accounts.choices import Role
from sciencecity.accounts.services import api_token_create, password_change, role_grant, user_create
from sciencecity.programmes.models import Application, Call, Criterion, ExpertProfile, Publication
from sciencecity.registry.models import Organisation, Person
from sciencecity.registry.services import organisation_search_text

calls = int(os.environ["SEED_CALLS"])

def organisation(code, name, kind="enterprise"):
    org = Organisation(code=code, name=name, kind=kind, level="none", status="operating")
    org.search_text = organisation_search_text(org)
    org.save()
    return org

def account(username, role, org):
    user, one_time = user_create(actor=None, username=username, display_name=username)
    password_change(user=user, old_password=one_time, new_password="Stack!Smoke-2026x")
    role_grant(actor=None, user=user, role=role, organisation=org, reason="stack smoke test")
    return api_token_create(user=user, name="stack")[1]

officer = account("stack-officer", Role.BUREAU_OFFICER, organisation("STACK-GOV", "光明区科技创新局（栈）",
                                                                     "government_department"))
enterprise = organisation("STACK-ENT", "栈测试企业")
member = account("stack-enterprise", Role.ENTERPRISE_USER, enterprise)
topics = [("固态锂电池电解质", "锂电池, 电解质"), ("钙钛矿太阳能电池", "钙钛矿, 光伏"), ("脑机接口芯片", "脑机接口, 神经")]
experts = []
for i, (title, keywords) in enumerate(topics * 2):
    person = Person.objects.create(code=f"STACK-EXP-{i:02d}", name=f"栈专家{i}", categories=["expert"],
                                   expertise=[k.strip() for k in keywords.split(",")])
    ExpertProfile.objects.create(person=person)
    Publication.objects.create(title=f"{title}研究", year=2023).authors.add(person)
    experts.append(person.pk)
call_ids = []
for c in range(calls):
    call = Call.objects.create(code=f"STACK-C{c:03d}", title=f"栈测试指南{c}", mechanism="competitive", state="review",
                               opens_on=dt.date(2025, 1, 1), closes_on=dt.date(2025, 3, 1),
                               reviews_per_application=1, max_load=2, conflict_years=3)
    Criterion.objects.create(call=call, order=1, name="创新性", weight=Decimal("1"), max_score=10)
    for a, (title, keywords) in enumerate(topics):
        Application.objects.create(call=call, organisation=organisation(f"STACK-APP-{c:03d}-{a}", f"申报单位{c}-{a}"),
                                   reference=f"STACK-C{c:03d}-{a:04d}", title=title, abstract=title,
                                   keywords=keywords, requested_amount=Decimal("100"), state="under_review")
    call_ids.append(call.pk)
print(json.dumps({"officer_token": officer, "member_token": member, "calls": call_ids,
                  "applications_per_call": len(topics)}))
"""


def postgres_admin(sql: str) -> None:
    stack_script.postgres_admin(f"{POSTGRES_SERVER}/postgres", sql)


def missing_requirements() -> str | None:
    """Why the stack cannot run here (None when it can)."""
    if shutil.which("redis-server") is None:
        return "redis-server is not installed"
    if not (Path(sys.executable).parent / "gunicorn").exists():
        return "gunicorn is not installed in the virtual environment"
    try:
        postgres_admin("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means: no PostgreSQL here
        return f"PostgreSQL at {POSTGRES_SERVER} is not reachable ({exc.__class__.__name__})"
    return None


class StackRun:
    """``scripts/stack.py`` on a fresh database ``<prefix>_<random>``, dropped at the end."""

    def __init__(self, *, prefix: str = "stack_smoke", calls: int = 1, extra_env: dict[str, str] | None = None,
                 web: int = 2, gunicorn_workers: int = 2, workers: int = 2) -> None:
        self.database = f"{prefix}_{uuid.uuid4().hex[:8]}"
        self.database_url = f"{POSTGRES_SERVER}/{self.database}"
        self.calls, self.web, self.gunicorn_workers, self.workers = calls, web, gunicorn_workers, workers
        self.extra_env = extra_env or {}
        self.var = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
        self.port = stack_script.free_port()
        self.process: subprocess.Popen | None = None
        self.output = self.var / "stack.out"

    @property
    def state(self) -> dict:
        return json.loads((self.var / "stack.json").read_text())

    def ready(self) -> bool:
        try:
            return self.state["ready"]
        except (OSError, ValueError):
            return False

    def env(self) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(ROOT / "src"), **self.extra_env}

    def __enter__(self) -> StackRun:
        try:
            self.start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def start(self, timeout: float = 300) -> None:
        started = time.monotonic()
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, str(ROOT / "scripts" / "stack.py"), "--port", str(self.port), "--fresh",
                 "--database-url", self.database_url, "--setup", "migrate", "--var-dir", str(self.var),
                 "--web", str(self.web), "--gunicorn-workers", str(self.gunicorn_workers),
                 "--workers", str(self.workers), "--stop-grace", "10"],
                cwd=ROOT, env=self.env(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        while not self.ready():
            if self.process.poll() is not None or time.monotonic() - started > timeout:
                raise RuntimeError(f"the stack did not start:\n{self.output.read_text()[-3000:]}")
            time.sleep(0.3)
        self.start_seconds = time.monotonic() - started
        seed_env = {**self.env(), "DJANGO_SETTINGS_MODULE": "sciencecity.config.base", "DATABASE_URL": self.database_url,
                    "SCIENCECITY_VAR_DIR": str(self.var), "SEED_CALLS": str(self.calls), "LOG_LEVEL": "WARNING"}
        out = subprocess.run([sys.executable, "-c", SEED], env=seed_env, cwd=ROOT, check=True, capture_output=True,
                             text=True).stdout
        self.seed = json.loads(out.strip().splitlines()[-1])

    def log(self) -> str:
        return self.output.read_text(errors="replace")

    def stop(self, timeout: float = 60) -> int | None:
        """Ctrl-C for the stack; its exit status."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        os.kill(self.process.pid, signal.SIGINT)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            return self.process.wait()

    def __exit__(self, *exc) -> None:
        self.stop()
        with contextlib.suppress(Exception):
            postgres_admin(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
        shutil.rmtree(self.var, ignore_errors=True)

    def query(self, sql: str) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.database_url) as conn:
            return conn.execute(sql).fetchall()


class Client:
    """A keep-alive client of the proxy that remembers which upstream answered."""

    def __init__(self, port: int, token: str, *, cookie: str = "") -> None:
        self.port, self.token, self.cookie = port, token, cookie
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.upstreams: list[str] = []

    def request(self, method: str, path: str, *, body: bytes | None = None,
                content_type: str = "application/json") -> tuple[int, bytes]:
        headers = {"Host": "127.0.0.1"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.cookie:
            headers["Cookie"] = self.cookie
        if body is not None:
            headers["Content-Type"] = content_type
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn.close()  # the proxy closed a kept-alive connection: a new one (nothing was answered)
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            raise
        data = response.read()
        self.upstreams.append(response.getheader("X-Upstream") or "")
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
        return response.status, data

    def json(self, method: str, path: str, payload: dict | None = None) -> tuple[int, dict]:
        status, data = self.request(method, path, body=json.dumps(payload).encode() if payload is not None else None)
        try:
            return status, json.loads(data)
        except ValueError:
            return status, {"raw": data[:300].decode(errors="replace")}

    def upload(self, path: str, name: str, content: bytes) -> tuple[int, dict]:
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                "Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\r\n").encode()
        body += content + f"\r\n--{boundary}--\r\n".encode()
        status, data = self.request("POST", path, body=body, content_type=f"multipart/form-data; boundary={boundary}")
        return status, json.loads(data)

    def wait_job(self, url: str, *, seconds: float = 120, field: str = "state",
                 final: tuple[str, ...] = ("done", "failed", "cancelled")) -> dict:
        """Poll a job's status URL until it is final."""
        deadline = time.monotonic() + seconds
        while True:
            status, body = self.json("GET", url)
            if status == 200 and body.get(field) in final:
                return body
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url}: still {body} after {seconds:.0f} s")
            time.sleep(0.3)


ORG_HEADERS = ["编码", "名称", "英文名称", "类型", "级别", "状态", "统一社会信用代码", "成立日期", "地址", "所在区",
               "领域", "别名"]  # the organisation importer's columns (registry/importers.py)


def org_xlsx(count: int, prefix: str, serial: int) -> bytes:
    """An organisations spreadsheet of ``count`` valid rows, codes ``<prefix>-0000`` …; ``serial`` (0–999) keeps
    the credit codes of different files apart."""
    import io

    from openpyxl import Workbook

    from sciencecity.registry.validators import credit_code_check_character

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "机构"
    sheet.append(ORG_HEADERS)
    for i in range(count):
        first17 = f"91440300{serial:03d}{i:06d}"
        sheet.append([f"{prefix}-{i:04d}", f"栈导入机构{prefix}{i}", "", "enterprise", "district", "operating",
                      first17 + credit_code_check_character(first17), "2020-01-01", "", "光明区", "IND-AI", ""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
