"""A 300 MB upload against the real server: refused early (413) by Streamlit's upload endpoint, without the
server's memory growing by anything like it, and the server keeps serving others.

The upload endpoint (``PUT /_stcore/upload_file/<session>/<file>``) checks, in this order: the XSRF token (403),
an active session (400), then the size against ``server.maxUploadSize`` — the Content-Length header first, then
while the body streams in. So the test first lets the browser upload a small PDF on the public verification page
to learn a live session and a valid XSRF cookie/token pair, then sends its own 300 MB body from a generator (never
held in memory) through a plain socket, stopping as soon as the server answers. The server's resident memory is
read from /proc/<pid>/status before and after.
"""

from __future__ import annotations

import os
import re
import select
import socket
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import wait_idle

BODY_BYTES = 300 * 1024 * 1024
CHUNK = 1024 * 1024
CONFIG = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"


def _configured_limit_mb() -> int:
    return int(re.search(r"^maxUploadSize\s*=\s*(\d+)", CONFIG.read_text(), re.M).group(1))


def _server_pid(port: int) -> int:
    """The process listening on ``port`` (from /proc/net/tcp and the processes' socket descriptors)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # LISTEN
                inodes.add(fields[9])
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") in {f"socket:[{i}]" for i in inodes}:
                    return int(pid)
        except OSError:
            continue
    pytest.fail(f"no process found listening on port {port}")


def _rss_mb(pid: int) -> float:
    kb = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M).group(1)
    return int(kb) / 1024


def _body(boundary: str):
    """A multipart body around 300 MB of zeros, produced a megabyte at a time."""
    yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"besar.pdf\"\r\n"
           "Content-Type: application/pdf\r\n\r\n").encode()
    block = bytes(CHUNK)
    for _ in range(BODY_BYTES // CHUNK):
        yield block
    yield f"\r\n--{boundary}--\r\n".encode()


def _send_unless_answered(sock: socket.socket, data: bytes) -> bool:
    """Send ``data``; False as soon as the server has answered (or closed) instead of reading on."""
    view = memoryview(data)
    while view:
        readable, writable, _ = select.select([sock], [sock], [], 60)
        if readable:
            return False
        if not writable:
            raise TimeoutError("the server neither reads nor answers")
        try:
            view = view[sock.send(view):]
        except (BrokenPipeError, ConnectionResetError):
            return False
    return True


def _put(url: str, headers: dict[str, str], *, declare_length: bool) -> tuple[int, int]:
    """PUT the 300 MB body; (HTTP status, body bytes sent before the answer)."""
    parts = urlsplit(url)
    boundary = "batasMuskel7d1f"
    lines = [f"PUT {parts.path} HTTP/1.1", f"Host: {parts.netloc}",
             f"Content-Type: multipart/form-data; boundary={boundary}", *(f"{k}: {v}" for k, v in headers.items())]
    total = sum(len(piece) for piece in _body(boundary)) if declare_length else None
    lines.append(f"Content-Length: {total}" if declare_length else "Transfer-Encoding: chunked")
    sent = 0
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        for piece in _body(boundary):
            framed = piece if declare_length else b"%x\r\n" % len(piece) + piece + b"\r\n"
            if not _send_unless_answered(sock, framed):
                break
            sent += len(piece)
        else:
            if not declare_length:
                _send_unless_answered(sock, b"0\r\n\r\n")
        response = b""
        try:
            while b"\r\n" not in response:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                response += chunk
        except ConnectionResetError:
            pass
    status = re.match(rb"HTTP/1\.[01] (\d{3})", response)
    assert status, f"no HTTP answer after {sent} bytes: {response[:200]!r}"
    return int(status.group(1)), sent


def _health(base: str) -> str:
    with urllib.request.urlopen(f"{base}/_stcore/health", timeout=10) as response:
        return response.read().decode().strip()


def test_300_mb_upload_refused_early_and_server_keeps_serving(page, browser, muskel_server):
    """Guards: server.maxUploadSize is the real limit (50 MB): a 300 MB body — with or without a truthful
    Content-Length — gets 413 after at most the limit plus framing was sent, the server's RSS does not grow by
    anything like 300 MB, and right after it answers its health check and serves a new visitor's login page."""
    limit_mb = _configured_limit_mb()
    assert limit_mb == 50
    pid = _server_pid(urlsplit(muskel_server).port)

    page.goto(f"{muskel_server}/cek_dokumen")
    wait_idle(page)
    page.get_by_role("tab", name="Unggah PDF").click()
    with page.expect_request(lambda r: "/_stcore/upload_file/" in r.url and r.method == "PUT") as captured:
        page.locator("input[type='file']").set_input_files(
            files=[{"name": "kecil.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 kecil\n%%EOF\n"}])
    request = captured.value
    token = request.all_headers().get("x-xsrftoken")
    cookie = next(c for c in page.context.cookies() if c["name"] == "_streamlit_xsrf")
    assert token and cookie["value"]
    session_url = request.url.rsplit("/", 1)[0]
    wait_idle(page)

    # Without the XSRF pair the endpoint refuses before the size is looked at (why the test needs the pair).
    status, _ = _put(f"{session_url}/besar-tanpa-xsrf", {}, declare_length=True)
    assert status == 403

    headers = {"X-Xsrftoken": token, "Cookie": f"_streamlit_xsrf={cookie['value']}"}
    rss_before = _rss_mb(pid)
    status, sent = _put(f"{session_url}/besar-berterus-terang", headers, declare_length=True)
    assert status == 413
    assert sent < (limit_mb + 2) * CHUNK  # refused from the header, long before 300 MB were sent
    status, sent = _put(f"{session_url}/besar-tanpa-panjang", headers, declare_length=False)
    assert status == 413
    assert sent < BODY_BYTES / 2  # chunked: refused while streaming, once past the limit
    rss_after = _rss_mb(pid)
    print(f"\nserver RSS {rss_before:.0f} MB before, {rss_after:.0f} MB after; {sent / CHUNK:.0f} MB of the "
          f"chunked body sent before the 413")
    assert rss_after - rss_before < 100

    assert _health(muskel_server) == "ok"
    other = browser.new_context(locale="id-ID").new_page()
    try:
        other.goto(muskel_server)
        expect(other.get_by_role("button", name="Masuk")).to_be_visible(timeout=30_000)
    finally:
        other.context.close()
    # The uploading tab's own session still works as well.
    page.get_by_role("tab", name="Kode verifikasi").click()
    expect(page.get_by_text("Cek keaslian dokumen Muskel")).to_be_visible()
