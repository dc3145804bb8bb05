"""Run a command in this network namespace and log every network attempt it makes.

Meant to run as `unshare -n -m python netwatch.py LOG -- COMMAND...`: inside a private network
namespace (only loopback) and a private mount namespace, it points the resolver at a fake DNS server
on 127.0.0.1 that logs every query and answers each with 127.0.0.2, where listeners on the usual
ports log every connection. So native code (onnxruntime's telemetry is C++) is seen too: a lookup is
logged even though nothing outside the machine could be reached. LOG gets one JSON line per attempt.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

FAKE_ADDRESS = "127.0.0.2"
PORTS = (80, 443, 8080, 8443)


def _log(path: Path, lock: threading.Lock, **event: object) -> None:
    with lock, path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(event) + "\n")


def _query_name(packet: bytes) -> str:
    """The first question's name of a DNS query."""
    labels, position = [], 12
    while position < len(packet) and packet[position]:
        size = packet[position]
        labels.append(packet[position + 1 : position + 1 + size].decode("ascii", "replace"))
        position += size + 1
    return ".".join(labels)


def _answer(packet: bytes) -> bytes:
    """A reply to an A query with FAKE_ADDRESS (other types get an empty answer)."""
    end = packet.index(b"\x00", 12) + 5  # the question: name, type, class
    qtype = packet[end - 4 : end - 2]
    header = packet[:2] + b"\x81\x80" + packet[4:6]
    if qtype != b"\x00\x01":
        return header + b"\x00\x00\x00\x00\x00\x00" + packet[12:end]
    record = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + socket.inet_aton(FAKE_ADDRESS)
    return header + b"\x00\x01\x00\x00\x00\x00" + packet[12:end] + record


def _dns(path: Path, lock: threading.Lock, server: socket.socket) -> None:
    while True:
        packet, client = server.recvfrom(4096)
        _log(path, lock, kind="dns", name=_query_name(packet))
        with contextlib.suppress(ValueError, OSError):  # a malformed query gets no answer
            server.sendto(_answer(packet), client)


def _listen(path: Path, lock: threading.Lock, server: socket.socket, port: int) -> None:
    while True:
        connection, _ = server.accept()
        _log(path, lock, kind="connect", port=port)
        connection.close()


def main() -> int:
    """Set up the resolver and listeners, run the command, and return its exit code."""
    separator = sys.argv.index("--")
    log, command = Path(sys.argv[1]), sys.argv[separator + 1 :]
    lock = threading.Lock()
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    resolv = Path(tempfile.mkdtemp()) / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.1\noptions attempts:1 timeout:1\n", encoding="utf-8")
    subprocess.run(["mount", "--bind", str(resolv), "/etc/resolv.conf"], check=True)
    dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dns.bind(("127.0.0.1", 53))
    threading.Thread(target=_dns, args=(log, lock, dns), daemon=True).start()
    for port in PORTS:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind((FAKE_ADDRESS, port))
        listener.listen(16)
        threading.Thread(target=_listen, args=(log, lock, listener, port), daemon=True).start()
    # A Python-level connection to a literal address would bypass the resolver: route every
    # address to loopback, so such an attempt is refused at once instead of hanging.
    subprocess.run(["ip", "route", "add", "default", "dev", "lo"], check=False)
    return subprocess.run(command).returncode


if __name__ == "__main__":
    sys.exit(main())
