"""The production deployment of docs/deploy.md, started for real and used through a browser: PostgreSQL
migrated by ``muskel init``, two Streamlit replicas (command line of deploy/muskel@.service, settings of
deploy/muskel.env.example) sharing one data directory and one cookie secret, and nginx rendered by
deploy/render_nginx.py with a certificate of deploy/make-ca.

A field officer uploads a photo and the Lurah submits a batch, both through nginx over HTTPS; then the other
replica — the one nginx did not send this browser to, reached directly on its own port — shows the Camat the
submitted batch and the officer the photo's display copy. nginx's access log is the oracle for which replica
served the browser (all requests to one: session affinity), Python's ssl module for the certificate, plain SQL
and hashlib for what was stored.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import re
import secrets
import shlex
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from core import db, documents, meetings, proposals, verification
from core.access import Actor, Role
from tests.browser.conftest import ARTIFACTS, PROJECT_ROOT, _free_port, _stop, log_in, settle
from tests.unit.photo_factory import house_scene, jpeg_bytes

pytestmark = pytest.mark.browser

DEPLOY = PROJECT_ROOT / "deploy"
HOST = "muskel.test"  # named in the certificate; Chromium resolves it to 127.0.0.1 (--host-resolver-rules)
KEL = "31.75.01.1003"
PERIOD = "2026-10"  # the demo's Kayu Manis not-held statement, whose documents the demo leaves as drafts
LURAH = Actor("lurah.kayumanis", "Hendra Gunawan", Role.LURAH, KEL)
OPERATOR = Actor("operator.kayumanis", "Sari Wulandari", Role.OPERATOR, KEL)
START_TIMEOUT = 90
SLOW = 30_000  # ms for an answer after an action: other work shares the CI machine; nothing here is timed


# --- the shipped files, as the test uses them ---------------------------------------------------------------

def _replica_env(database_url: str, data_dir: Path, https_port: int) -> dict[str, str]:
    """deploy/muskel.env.example with this test's database, data directory and address, and a new cookie
    secret."""
    import os

    shipped = {}
    for line in (DEPLOY / "muskel.env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            shipped[key.strip()] = value.strip()
    for required in ("STREAMLIT_SERVER_COOKIE_SECRET", "STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION",
                     "STREAMLIT_SERVER_MAX_UPLOAD_SIZE", "STREAMLIT_CLIENT_SHOW_ERROR_DETAILS",
                     "MUSKEL_BEHIND_PROXY", "MUSKEL_PUBLIC_URL"):
        assert required in shipped, f"{required} missing from deploy/muskel.env.example"
    shipped.update(MUSKEL_DATABASE_URL=database_url, MUSKEL_DATA_DIR=str(data_dir),
                   MUSKEL_PUBLIC_URL=f"https://{HOST}:{https_port}",
                   STREAMLIT_SERVER_COOKIE_SECRET=secrets.token_urlsafe(48))
    left = [k for k, v in shipped.items() if "CHANGE-ME" in v]
    assert not left, f"placeholders the test does not fill: {left}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MUSKEL_", "STREAMLIT_"))}
    env.update(shipped, PYTHONUNBUFFERED="1")
    return env


def _replica_command(port: int) -> list[str]:
    """ExecStart of deploy/muskel@.service for instance ``port``, with this checkout's Python."""
    [line] = [x for x in (DEPLOY / "muskel@.service").read_text().splitlines() if x.startswith("ExecStart=")]
    program, *args = shlex.split(line.split("=", 1)[1].replace("%i", str(port)))
    assert program.endswith("/streamlit"), program
    return [sys.executable, "-m", "streamlit", *args]


def _muskel(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "core.cli", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"muskel {args[0]} failed:\n{done.stdout}\n{done.stderr}"


def _make_ca(tls: Path) -> None:
    done = subprocess.run([str(DEPLOY / "make-ca"), str(tls), HOST, "127.0.0.1"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def _spki_pin(cert: Path) -> str:
    """base64(SHA-256(SubjectPublicKeyInfo)) of the certificate, by openssl: the format Chromium pins."""
    pubkey = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-pubkey"], capture_output=True,
                            check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pubkey, capture_output=True,
                         check=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


# --- the setup through the services -------------------------------------------------------------------------

def _prepare(database_url: str, data_dir: Path, monkeypatch) -> str:
    """Kayu Manis' October batch ready to submit (SPTJM and BAST final with signed scans), and one register
    family assigned to the field officer — against the deployment's database and shared data directory.
    Returns the family as the officer's list names it: head of family and masked KK."""
    monkeypatch.setenv("MUSKEL_DATA_DIR", str(data_dir))
    monkeypatch.setenv("MUSKEL_DATABASE_URL", database_url)
    engine = db.get_engine(database_url)
    with db.session_scope(engine) as s:
        listed = meetings.list_meetings(KEL, actor=LURAH, session=s)
        [mid] = [m["id"] for m in listed if m["periode"] == PERIOD]
    for doc_type in ("sptjm", "bast_kelurahan"):
        with db.session_scope(engine) as s:
            doc = documents.finalise(doc_type, {"meeting_id": mid}, actor=LURAH, session=s)
        with db.session_scope(engine) as s:
            documents.upload_scan(doc["id"], b"%PDF-1.4\n% pindaian " + doc_type.encode() + b"\n%%EOF\n",
                                  f"{doc_type}.pdf", actor=OPERATOR, session=s)
    with db.session_scope(engine) as s:
        family = proposals.register_candidates(KEL, actor=LURAH, session=s)[5]
        verification.assign(KEL, "petugas.kayumanis", family_ids=[family["family_id"]], actor=LURAH,
                            session=s)
    engine.dispose()
    db.get_engine.cache_clear()
    return f"{family['kepala']} · KK {family['no_kk']}"


# --- processes ----------------------------------------------------------------------------------------------

def _health(url: str, context: ssl.SSLContext | None = None) -> str:
    with urllib.request.urlopen(url, timeout=5, context=context) as response:
        return f"{response.status} {response.read().decode().strip()}"


def _wait_healthy(proc: subprocess.Popen, url: str, log: Path, context: ssl.SSLContext | None = None) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if proc.poll() is not None:
            pytest.fail(f"{url}: process exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if _health(url, context) == "200 ok":
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{url} not healthy after {START_TIMEOUT}s:\n{log.read_text(errors='replace')}")
        time.sleep(0.25)


def _start_nginx(nginx: str, prefix: Path, upstreams: list[str], tls: Path, https_port: int,
                 http_port: int) -> subprocess.Popen:
    import os

    (prefix / "logs").mkdir(parents=True)
    (prefix / "tmp").mkdir()
    command = [sys.executable, str(DEPLOY / "render_nginx.py"), "--standalone", "--server-name", HOST,
               "--cert", str(tls / "server.pem"), "--key", str(tls / "server.key"),
               "--https-port", str(https_port), "--http-port", str(http_port),
               "--access-log", "logs/access.log"]
    for upstream in upstreams:
        command += ["--upstream", upstream]
    if os.geteuid() == 0:
        # Started as root, nginx's workers would run as nobody, who cannot enter pytest's private tmp.
        command += ["--user", "root"]
    conf = prefix / "nginx.conf"
    conf.write_text(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    base = [nginx, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "logs" / "error.log")]
    checked = subprocess.run([*base, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    return subprocess.Popen([*base, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                            start_new_session=True)


def _served_by(access_log: Path) -> list[tuple[str, str, str]]:
    """(request, status, upstream addresses) of every proxied request in nginx's access log."""
    rows = []
    for line in access_log.read_text().splitlines():
        found = re.search(r'"(\S+ \S+) [^"]*" (\d{3}) .* upstream=(.*?) upstream_status=', line)
        if found and found[3] != "-":
            rows.append((found[1], found[2], found[3]))
    return rows


# --- browser steps ------------------------------------------------------------------------------------------

def _go(tab, link: str, heading: str) -> None:
    from playwright.sync_api import expect

    tab.get_by_test_id("stSidebar").get_by_role("link", name=link, exact=True).click()
    expect(tab.get_by_role("heading", name=heading, exact=True)).to_be_visible(timeout=SLOW)
    settle(tab)


def _shot(tab, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"deploy-{name}.png"), full_page=True)


def _petugas_uploads(tab, base_url: str, photo: Path) -> None:
    from playwright.sync_api import expect

    log_in(tab, base_url, "petugas.kayumanis", "Budi Santoso", timeout=SLOW)
    # Camera and location are offered by the browser only to a secure context: HTTPS with a valid certificate.
    assert tab.evaluate("window.isSecureContext") is True
    _shot(tab, "1-nginx-petugas-home")
    _go(tab, "Kunjungan lapangan", "Kunjungan lapangan")
    tab.get_by_role("button", name="Mulai kunjungan").click()
    settle(tab)
    expect(tab.get_by_text("Foto dari ponsel")).to_be_visible(timeout=SLOW)
    with tab.expect_file_chooser() as chooser:
        tab.get_by_test_id("stFileUploaderDropzone").click()
    chooser.value.set_files(str(photo))
    expect(tab.get_by_text(photo.name)).to_be_visible(timeout=SLOW)
    tab.get_by_role("button", name="Unggah").click()
    expect(tab.get_by_text("gps_missing")).to_be_visible(timeout=SLOW)
    _expect_picture(tab)
    _shot(tab, "2-nginx-petugas-photo")


def _lurah_submits(tab, base_url: str) -> None:
    from playwright.sync_api import expect

    log_in(tab, base_url, "lurah.kayumanis", "Hendra Gunawan", timeout=SLOW)
    _go(tab, "Pengajuan", "Pengajuan ke Camat")
    box = tab.get_by_role("combobox", name="Periode", exact=True)
    box.click()
    if box.get_attribute("aria-expanded") != "true":
        box.press("ArrowDown")
    tab.get_by_role("option", name=f"Periode {PERIOD} · tidak diadakan", exact=True).click()
    settle(tab)
    expect(tab.get_by_text("Semua syarat terpenuhi.")).to_be_visible(timeout=SLOW)
    tab.get_by_text("Saya, Lurah, mengajukan usulan ini dan bertanggung jawab atas kebenarannya").click()
    settle(tab)
    tab.get_by_role("button", name="Ajukan ke Camat").click()
    settle(tab)
    expect(tab.get_by_text(re.compile(r"^Status: Diajukan ke Camat · revisi 1"))).to_be_visible(timeout=SLOW)
    _shot(tab, "3-nginx-lurah-submitted")


def _camat_sees_batch(tab, base_url: str) -> None:
    from playwright.sync_api import expect

    log_in(tab, base_url, "camat.matraman", "Ratna Sari Dewi", timeout=SLOW)
    _go(tab, "Tinjau pengajuan", "Tinjau pengajuan kelurahan")
    period = tab.get_by_label("Periode (YYYY-MM, kosongkan untuk semua)", exact=True)
    period.fill(PERIOD)
    period.press("Enter")
    settle(tab)
    grid = tab.get_by_test_id("stDataFrame").filter(visible=True).first
    expect(grid.locator("tr[aria-rowindex='2']")).to_contain_text("Kayu Manis", timeout=SLOW)
    expect(grid.locator("tr[aria-rowindex='2']")).to_contain_text("Diajukan ke Camat", timeout=SLOW)
    box = grid.bounding_box()
    tab.mouse.click(box["x"] + 18, box["y"] + 35 + 35 / 2)  # the row's selection cell (rows of 35 px)
    settle(tab)
    heading = tab.get_by_role("heading", name=f"Kel. Kayu Manis · periode {PERIOD} · Diajukan ke Camat")
    expect(heading).to_be_visible(timeout=SLOW)
    _shot(tab, "4-replica-camat-batch")


def _expect_picture(tab) -> None:
    """The visit shows exactly one photo, and the browser has decoded it (the display copy reached it)."""
    from playwright.sync_api import expect

    images = tab.get_by_test_id("stImage").locator("img")
    expect(images).to_have_count(1, timeout=SLOW)
    images.first.evaluate("img => img.decode()")  # waits for the bytes; rejects when they are not an image
    assert images.first.evaluate("img => img.naturalWidth") > 0
    images.first.scroll_into_view_if_needed()  # for the screenshot: Streamlit scrolls inside the page


def _petugas_sees_photo(tab, base_url: str, family: str) -> None:
    from playwright.sync_api import expect

    log_in(tab, base_url, "petugas.kayumanis", "Budi Santoso", timeout=SLOW)
    _go(tab, "Kunjungan lapangan", "Kunjungan lapangan")
    box = tab.get_by_role("combobox", name="Keluarga", exact=True)
    box.click()
    tab.keyboard.type(family)  # the list is long and drawn only in part: narrow it to the family first
    tab.get_by_role("option", name=re.compile(f"^{re.escape(family)} · ")).click()
    settle(tab)
    expect(tab.get_by_text("gps_missing")).to_be_visible(timeout=SLOW)
    _expect_picture(tab)
    _shot(tab, "5-replica-petugas-photo")


def _in_context(browser, step) -> None:
    """One desk in its own browser context (own cookies and Streamlit session); a screenshot if it fails."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="id-ID")
    tab = context.new_page()
    tab.set_default_timeout(SLOW)
    try:
        step(tab)
    except BaseException:
        _shot(tab, "failure")
        raise
    finally:
        context.close()


def _check_stored(database_url: str, data_dir: Path, photo: Path) -> None:
    """Plain SQL and hashlib: the batch is submitted; the uploaded photo is kept byte for byte, and its
    display and thumbnail copies are files in the shared store whose content has the SHA-256 the database
    names."""
    uploaded = hashlib.sha256(photo.read_bytes()).hexdigest()
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            [state] = conn.execute(sa.text(
                "SELECT b.state FROM batch b JOIN musyawarah m ON m.id = b.musyawarah_id "
                "WHERE m.kelurahan_kode = :k AND m.periode = :p"), {"k": KEL, "p": PERIOD}).scalars().all()
            copies = conn.execute(sa.text(
                "SELECT f.sha256 FROM visitphoto p JOIN storedfile f "
                "ON f.id IN (p.original_id, p.display_id, p.thumb_id) WHERE p.sha256 = :sha"),
                {"sha": uploaded}).scalars().all()
    finally:
        engine.dispose()
    assert state == "diajukan"
    assert len(set(copies)) == 3 and uploaded in copies, copies
    for sha in copies:
        path = data_dir / "files" / sha[:2] / sha[2:4] / sha
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha


# --- the test -----------------------------------------------------------------------------------------------

@pytest.mark.timeout(480)  # about 100 s alone; four times that on a CI machine shared with other work
def test_two_replicas_behind_nginx_share_database_and_files(nginx_binary, deploy_chromium, deploy_database,
                                                             playwright_driver, tmp_path, monkeypatch):
    """Guards the documented deployment: TLS that verifies against the installation's own CA, the HTTP→HTTPS
    redirect, websockets and uploads through nginx, one replica per browser (ip_hash), health checks through
    nginx and on each replica, and — the point of sharing — work done on one replica is seen on the other."""
    data_dir, tls, prefix = tmp_path / "shared-data", tmp_path / "tls", tmp_path / "nginx"
    https_port, http_port = _free_port(), _free_port()
    replica_ports = [_free_port(), _free_port()]
    env = _replica_env(deploy_database, data_dir, https_port)
    _muskel(env, "init")  # the migration step: on PostgreSQL a replica refuses to start before it

    processes: list[subprocess.Popen] = []
    try:
        logs = [tmp_path / f"replica-{port}.log" for port in replica_ports]
        for port, log in zip(replica_ports, logs):
            with open(log, "wb") as out:
                processes.append(subprocess.Popen(_replica_command(port), cwd=PROJECT_ROOT, env=env,
                                                  stdout=out, stderr=subprocess.STDOUT,
                                                  start_new_session=True))
        # While the replicas start: the demo data, the batch and assignment, the certificate.
        _muskel(env, "seed-demo")
        family = _prepare(deploy_database, data_dir, monkeypatch)
        _make_ca(tls)
        photo = tmp_path / "rumah_depan.jpg"
        photo.write_bytes(jpeg_bytes(house_scene(41)))
        for proc, port, log in zip(processes, replica_ports, logs):
            _wait_healthy(proc, f"http://127.0.0.1:{port}/_stcore/health", log)
        upstreams = [f"127.0.0.1:{port}" for port in replica_ports]
        nginx = _start_nginx(nginx_binary, prefix, upstreams, tls, https_port, http_port)
        processes.append(nginx)

        # The certificate verifies against the generated CA for the host name, and only for it.
        trusted = ssl.create_default_context(cafile=str(tls / "ca.pem"))
        _wait_healthy(nginx, f"https://127.0.0.1:{https_port}/_stcore/health", prefix / "logs" / "error.log",
                      trusted)  # the certificate names 127.0.0.1 too
        with socket.create_connection(("127.0.0.1", https_port), timeout=5) as raw:
            with trusted.wrap_socket(raw, server_hostname=HOST) as tls_sock:
                assert tls_sock.version() in ("TLSv1.2", "TLSv1.3")
        with pytest.raises(ssl.SSLCertVerificationError):
            with socket.create_connection(("127.0.0.1", https_port), timeout=5) as raw:
                trusted.wrap_socket(raw, server_hostname="bukan-muskel.test")
        with pytest.raises(ssl.SSLCertVerificationError):  # a certificate nobody vouched for is refused
            with socket.create_connection(("127.0.0.1", https_port), timeout=5) as raw:
                ssl.create_default_context().wrap_socket(raw, server_hostname=HOST)

        # Plain HTTP only redirects to HTTPS.
        plain = http.client.HTTPConnection("127.0.0.1", http_port, timeout=5)
        plain.request("GET", "/cek_dokumen?kode=ABC", headers={"Host": HOST})
        answer = plain.getresponse()
        assert answer.status == 301
        assert answer.getheader("Location") == f"https://{HOST}:{https_port}/cek_dokumen?kode=ABC"
        plain.close()

        pin = _spki_pin(tls / "server.pem")
        base_url = f"https://{HOST}:{https_port}"
        with contextlib.nullcontext(playwright_driver) as pw:  # the run's one driver (tests/conftest.py)
            browser = pw.chromium.launch(executable_path=deploy_chromium, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", f"--host-resolver-rules=MAP {HOST} 127.0.0.1",
                f"--ignore-certificate-errors-spki-list={pin}"])
            try:
                for step in (lambda tab: _petugas_uploads(tab, base_url, photo),
                             lambda tab: _lurah_submits(tab, base_url)):
                    _in_context(browser, step)

                served = _served_by(prefix / "logs" / "access.log")
                used = set(re.findall(r"127\.0\.0\.1:\d+", " ".join(addresses for _, _, addresses in served)))
                assert len(used) == 1, f"the browser's requests went to {used}"
                [pinned] = used
                assert any(req.startswith("GET /_stcore/stream") and status == "101"
                           for req, status, _ in served), "no websocket upgrade through nginx"
                assert any(req.startswith("PUT /_stcore/upload_file/") and status.startswith("2")
                           for req, status, _ in served), "the photo upload did not pass nginx"
                [other] = [u for u in upstreams if u != pinned]

                for step in (lambda tab: _camat_sees_batch(tab, f"http://{other}"),
                             lambda tab: _petugas_sees_photo(tab, f"http://{other}", family)):
                    _in_context(browser, step)
            finally:
                browser.close()

        assert _health(f"https://127.0.0.1:{https_port}/_stcore/health", trusted) == "200 ok"
        for upstream in upstreams:
            assert _health(f"http://{upstream}/_stcore/health") == "200 ok"
    finally:
        for proc in reversed(processes):
            _stop(proc)

    _check_stored(deploy_database, data_dir, photo)
