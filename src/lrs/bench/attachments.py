"""Memory benchmark of attachment streaming: `python -m lrs.bench.attachments [--size-mb 200]`.

Starts `lrs serve` in a child process (embedded PostgreSQL in a temporary directory unless --database-url is
given), POSTs one statement with a SIZE-MB attachment as multipart/mixed (streamed from a generator, never held
whole by this client), then GETs it back with attachments=true (streamed and hashed while read). Reports the
server process's resident memory before, and its peak (Linux VmHWM, reset between phases) during each phase.
Only 127.0.0.1 is contacted; the server and its PostgreSQL are stopped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import orjson

from lrs.http.multipart import Parser, PartData, PartStart, boundary_of

BLOCK = 1024 * 1024
MIB = 1024 * 1024


def _blocks(size: int, seed: int) -> Iterator[bytes]:
    rng = random.Random(seed)
    left = size
    while left > 0:
        n = min(BLOCK, left)
        yield rng.randbytes(n)
        left -= n


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status(pid: int, field: str) -> int:
    """A memory field of /proc/PID/status in bytes (VmRSS, VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def _reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False when not permitted."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class _Sampler:
    """Samples VmRSS every few milliseconds in a thread: a cross-check of VmHWM."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(OSError, KeyError):
                self.peak = max(self.peak, _status(self.pid, "VmRSS"))
            time.sleep(0.005)

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _request_body(stmt: Mapping[str, object], sha2: str, size: int, seed: int, boundary: str) -> Iterator[bytes]:
    yield f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode() + orjson.dumps(stmt)
    yield (
        f"\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n"
        f"X-Experience-API-Hash: {sha2}\r\n\r\n"
    ).encode()
    yield from _blocks(size, seed)
    yield f"\r\n--{boundary}--\r\n".encode()


def _wait_ready(base: str, server: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited early with status {server.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/xapi/about", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise SystemExit("the server did not become ready")


def _stop(server: subprocess.Popen[bytes], data_dir: Path) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    for pidfile in data_dir.rglob("postmaster.pid"):
        with contextlib.suppress(ValueError, OSError, IndexError):
            pid = int(pidfile.read_text().splitlines()[0])
            os.kill(pid, signal.SIGINT)
            for _ in range(200):
                os.kill(pid, 0)  # raises once it has exited
                time.sleep(0.05)


def run(size_mb: int, database_url: str | None, seed: int = 7) -> dict[str, float]:
    """Run the benchmark; return the measurements in MiB and seconds."""
    size = size_mb * MIB
    sha = hashlib.sha256()
    for block in _blocks(size, seed):
        sha.update(block)
    sha2 = sha.hexdigest()
    port = _free_port()
    key, secret = "bench", secrets.token_urlsafe(16)
    work = Path(tempfile.mkdtemp(prefix="lrs-bench-"))
    env = {
        **os.environ,
        "LRS_DATA_DIR": str(work / "data"),
        "LRS_HOST": "127.0.0.1",
        "LRS_PORT": str(port),
        "LRS_ADMIN_KEY": key,
        "LRS_ADMIN_SECRET": secret,
        "LRS_MAX_ATTACHMENT_BYTES": str(size + MIB),
        "LRS_LOG_LEVEL": "warning",
    }
    if database_url:
        env["LRS_DATABASE_URL"] = database_url
    else:
        env.pop("LRS_DATABASE_URL", None)
    log = (work / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-c", "from lrs.cli import app; app()", "serve"], env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    results: dict[str, float] = {"size_mib": size / MIB}
    try:
        _wait_ready(base, server)
        auth = httpx.BasicAuth(key, secret)
        headers = {"X-Experience-API-Version": "2.0.0"}
        with httpx.Client(base_url=base, auth=auth, headers=headers, timeout=600) as client:
            warm = client.get("/xapi/statements", params={"attachments": "true"})
            warm.raise_for_status()
            results["rss_idle_mib"] = _status(server.pid, "VmRSS") / MIB
            sid = str(uuid.uuid4())
            stmt = {
                "id": sid,
                "actor": {"mbox": "mailto:bench@example.com"},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                "object": {"id": "http://example.com/bench"},
                "attachments": [
                    {
                        "usageType": "http://example.com/usage/bench",
                        "display": {"en": "bench"},
                        "contentType": "application/octet-stream",
                        "length": size,
                        "sha2": sha2,
                    }
                ],
            }
            boundary = uuid.uuid4().hex
            can_reset = _reset_peak(server.pid)
            started = time.monotonic()
            with _Sampler(server.pid) as sampler:
                r = client.post(
                    "/xapi/statements",
                    content=_request_body(stmt, sha2, size, seed, boundary),
                    headers={"Content-Type": f"multipart/mixed; boundary={boundary}"},
                )
            results["post_seconds"] = time.monotonic() - started
            results["rss_sampled_post_mib"] = sampler.peak / MIB
            if r.status_code != 200:
                raise SystemExit(f"POST failed: {r.status_code} {r.text[:300]}")
            results["rss_peak_post_mib"] = _status(server.pid, "VmHWM") / MIB
            _reset_peak(server.pid)
            started = time.monotonic()
            got = hashlib.sha256()
            received = 0
            with (
                _Sampler(server.pid) as sampler,
                client.stream("GET", "/xapi/statements", params={"statementId": sid, "attachments": "true"}) as resp,
            ):
                resp.raise_for_status()
                parser = Parser(boundary_of(resp.headers["content-type"]))
                parts = 0
                for chunk in resp.iter_raw():
                    for event in parser.feed(chunk):
                        if isinstance(event, PartStart):
                            parts += 1
                        elif isinstance(event, PartData) and parts == 2:
                            got.update(event.data)
                            received += len(event.data)
                parser.close()
            results["get_seconds"] = time.monotonic() - started
            results["rss_sampled_get_mib"] = sampler.peak / MIB
            results["rss_peak_get_mib"] = _status(server.pid, "VmHWM") / MIB
            if got.hexdigest() != sha2 or received != size:
                raise SystemExit(f"GET returned {received} bytes hashing to {got.hexdigest()}, expected {sha2}")
            if not can_reset:
                results["peak_is_since_start"] = 1.0
    finally:
        _stop(server, work / "data")
        log.close()
        shutil.rmtree(work, ignore_errors=True)
    return results


def main() -> None:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--size-mb", type=int, default=200, help="attachment size in MiB (default 200)")
    ap.add_argument("--database-url", default=None, help="PostgreSQL URL (default: embedded, temporary)")
    args = ap.parse_args()
    results = run(args.size_mb, args.database_url)
    size = results["size_mib"]
    print(f"attachment: {size:.0f} MiB")
    print(f"server RSS idle:                {results['rss_idle_mib']:7.1f} MiB")
    for phase in ("post", "get"):
        print(
            f"server peak RSS during {phase.upper():4} {results[f'rss_peak_{phase}_mib']:7.1f} MiB (VmHWM), "
            f"{results[f'rss_sampled_{phase}_mib']:7.1f} MiB (sampled)  {results[f'{phase}_seconds']:.1f} s"
        )
    if results.get("peak_is_since_start"):
        print("note: VmHWM could not be reset; peaks are since server start")


if __name__ == "__main__":
    main()
