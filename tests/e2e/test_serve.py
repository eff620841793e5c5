"""The README's run command: `taf serve --demo` starts on the embedded default with demo data."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_with_demo_data_answers_healthz(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAF_")}
    env["TAF_DATA_DIR"] = str(tmp_path / "data")
    taf = Path(sys.executable).with_name("taf")
    process = subprocess.Popen(
        [str(taf), "serve", "--demo", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "service did not start within 60 s"
                time.sleep(0.3)
        assert response.status_code == 200
        assert (tmp_path / "data" / "taf.sqlite").exists(), "the embedded default stores in SQLite under data/"
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert "API key: taf_" in output, "the demo logins and keys are printed"
    assert "demo families loaded" in output
