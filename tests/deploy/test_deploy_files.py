"""The shipped deployment files on their own, without servers: deploy/make-ca is idempotent and its certificate
verifies (openssl as the oracle), and deploy/render_nginx.py renders a site nginx accepts for any number of
replicas and refuses an incomplete call."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _make_ca(tls: Path, *names: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(DEPLOY / "make-ca"), str(tls), *names], capture_output=True, text=True, timeout=60)


def _render(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(DEPLOY / "render_nginx.py"), *args], capture_output=True, text=True,
                          timeout=60)


def _openssl(*args: str) -> str:
    return subprocess.run(["openssl", *args], capture_output=True, text=True, check=True).stdout


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl tidak ada")
def test_make_ca_keeps_what_is_valid_and_reissues_for_new_names(tmp_path):
    tls = tmp_path / "tls"
    assert _make_ca(tls, "muskel.kota.test", "10.0.0.5").returncode == 0
    first = {name: (tls / name).read_bytes() for name in ("ca.pem", "ca.key", "server.pem", "server.key")}
    assert "OK" in _openssl("verify", "-CAfile", str(tls / "ca.pem"), str(tls / "server.pem"))
    san = _openssl("x509", "-in", str(tls / "server.pem"), "-noout", "-ext", "subjectAltName")
    assert "DNS:muskel.kota.test" in san and "IP Address:10.0.0.5" in san
    assert (tls / "ca.key").stat().st_mode & 0o077 == 0 and (tls / "server.key").stat().st_mode & 0o077 == 0

    assert _make_ca(tls, "muskel.kota.test", "10.0.0.5").returncode == 0  # again: nothing changes
    assert {name: (tls / name).read_bytes() for name in first} == first

    assert _make_ca(tls, "muskel.kota.test", "muskel2.kota.test").returncode == 0  # new names: same CA, new cert
    assert (tls / "ca.pem").read_bytes() == first["ca.pem"]
    assert (tls / "server.pem").read_bytes() != first["server.pem"]
    san = _openssl("x509", "-in", str(tls / "server.pem"), "-noout", "-ext", "subjectAltName")
    assert "DNS:muskel2.kota.test" in san and "10.0.0.5" not in san
    assert "OK" in _openssl("verify", "-CAfile", str(tls / "ca.pem"), str(tls / "server.pem"))
    assert _make_ca(tls).returncode == 2  # no host name: usage


def test_rendered_site_is_accepted_by_nginx(tmp_path):
    tls = tmp_path / "tls"
    if shutil.which("openssl") is None:
        pytest.skip("openssl tidak ada")
    _make_ca(tls, "muskel.kota.test")
    upstreams = ["127.0.0.1:8501", "127.0.0.1:8502", "10.0.0.7:8501"]
    done = _render("--server-name", "muskel.kota.test", "--cert", str(tls / "server.pem"),
                   "--key", str(tls / "server.key"), *[x for u in upstreams for x in ("--upstream", u)])
    assert done.returncode == 0, done.stderr
    site = done.stdout
    assert "{{" not in site
    assert [line.split()[1] for line in site.splitlines() if line.strip().startswith("server ") and ":" in line] \
        == upstreams
    for directive in ("ip_hash;", "client_max_body_size 50m;", "proxy_set_header X-Forwarded-For $remote_addr;",
                      "listen 443 ssl http2;", "return 301 https://$host$request_uri;"):
        assert directive in site, directive

    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        pytest.skip("nginx tidak ada: hanya teksnya yang diperiksa")
    prefix = tmp_path / "nginx"
    (prefix / "logs").mkdir(parents=True)
    (prefix / "tmp").mkdir()
    conf = prefix / "nginx.conf"
    standalone = _render("--standalone", "--server-name", "muskel.kota.test", "--cert", str(tls / "server.pem"),
                         "--key", str(tls / "server.key"), "--https-port", "8443", "--http-port", "8080",
                         "--access-log", "logs/access.log")
    conf.write_text(standalone.stdout)
    checked = subprocess.run([nginx, "-t", "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "logs/error.log")],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr


def test_render_refuses_a_bad_upstream():
    done = _render("--server-name", "x", "--cert", "c", "--key", "k", "--upstream", "8501")
    assert done.returncode == 2 and "host:port" in done.stderr
