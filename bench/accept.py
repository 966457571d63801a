"""Webhooks accepted per second on one core (signature + dedupe + durable enqueue) for the 23 KB
``pull_request`` ``opened`` fixture, 16 concurrent connections, with p50/p99 time to accept; and the
same load on Probot's webhook layer (``@octokit/webhooks`` 14 on Node) in the same run.

The server under test is pinned to CPU 0 (``taskset``), wrk to CPU 1. nexus-bot runs as it does in
production (``nexus-bot serve``: web layer and workers in one process; no forge is configured here, so
the workers only parse and record each delivery). The same again with ``REDIS_URL``: the store is a
redis-server (AOF, everysec) on CPU 1, beside wrk.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FIXTURE = Path(os.environ.get("NEXUS_FIXTURES") or ROOT.parent / "shared" / "fixtures") / "github/pull_request/opened.json"
SECRET = "bench-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, timeout: float = 20) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def wrk(port: int, seconds: int, connections: int = 16) -> dict:
    body = FIXTURE.read_bytes()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    env = {**os.environ, "BENCH_BODY": str(FIXTURE), "BENCH_SIGNATURE": signature}
    out = subprocess.run(
        ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(HERE / "accept.lua"),
         f"http://127.0.0.1:{port}/webhooks/github"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout
    line = next(l for l in out.splitlines() if l.startswith("RESULT"))
    requests, duration_us, p50, p99, status_errors, connect_errors = map(int, line.split()[1:])
    return {
        "accepted_per_s": round(requests / (duration_us / 1e6)),
        "p50_ms": p50 / 1000, "p99_ms": p99 / 1000,
        "non_2xx": status_errors, "connect_errors": connect_errors, "requests": requests,
    }


def start_redis(tmp: str) -> tuple[subprocess.Popen, str]:
    """A redis-server with the AOF the README advises (everysec), on CPU 1 beside wrk."""
    port = free_port()
    proc = subprocess.Popen(["taskset", "-c", "1", "redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--dir", tmp, "--appendonly", "yes", "--appendfsync", "everysec", "--save", ""],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc, f"redis://127.0.0.1:{port}/0"


def run_nexus(seconds: int, role: str = "all", redis: bool = False) -> dict:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "WEBHOOK_SECRET": SECRET, "PORT": str(port), "HOST": "127.0.0.1",
               "DATABASE_PATH": f"{tmp}/bench.sqlite3", "LOG_LEVEL": "warn"}
        server = None
        if redis:
            server, env["REDIS_URL"] = start_redis(tmp)
        proc = subprocess.Popen(["taskset", "-c", "0", sys.executable, "-m", "bot", "serve", "--role", role], env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_up(f"http://127.0.0.1:{port}/healthz")
            wrk(port, 2)  # warm-up
            result = wrk(port, seconds)
            stats = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics.json"))
            result["server_accept_p99_ms"] = stats["accept"].get("p99_ms")
        finally:
            proc.terminate()
            proc.wait(30)
            if server is not None:
                server.terminate()
                server.wait(30)
    return result


def run_probot(seconds: int) -> dict | None:
    if not shutil.which("node") or not shutil.which("npm"):
        return None
    if not (HERE / "probot/node_modules/@octokit/webhooks").is_dir():
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund"], cwd=HERE / "probot", check=True)
    port = free_port()
    env = {**os.environ, "WEBHOOK_SECRET": SECRET, "PORT": str(port)}
    proc = subprocess.Popen(["taskset", "-c", "0", "node", "server.mjs"], cwd=HERE / "probot", env=env)
    try:
        time.sleep(1.0)
        wrk(port, 2)
        return wrk(port, seconds)
    finally:
        proc.terminate()
        proc.wait(30)


def main(seconds: int = 10) -> dict:
    if not shutil.which("wrk"):
        sys.exit("bench/accept.py needs wrk (apt-get install wrk)")
    results = {
        "nexus-bot serve (web + workers)": run_nexus(seconds),
        "nexus-bot serve --role web": run_nexus(seconds, "web"),
        "nexus-bot serve, Redis": run_nexus(seconds, redis=True) if shutil.which("redis-server") else None,
        "nexus-bot serve --role web, Redis": run_nexus(seconds, "web", redis=True) if shutil.which("redis-server") else None,
        "probot (@octokit/webhooks 14)": run_probot(seconds),
    }
    for name, r in results.items():
        if r:
            print(f"{name:<36} {r['accepted_per_s']:>7}/s  p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms"
                  f"  non-2xx {r['non_2xx']}")
    return results


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)))
