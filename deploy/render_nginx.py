"""Render Muskel's nginx configuration from ``deploy/nginx-muskel.conf.template`` for given replicas and
certificate, so that what a city installs is exactly what tests/deploy starts and checks.

    python deploy/render_nginx.py --server-name muskel.jaktim.go.id \\
        --cert /etc/muskel/tls/server.pem --key /etc/muskel/tls/server.key \\
        --upstream 127.0.0.1:8501 --upstream 127.0.0.1:8502 > /etc/nginx/sites-available/muskel

Without ``--standalone`` the output is a site file for the http {} context of Debian's nginx.conf. With
``--standalone`` it is a complete nginx.conf for ``nginx -p PREFIX -c FILE`` (pid, logs and temporary files
under the prefix): how the test runs nginx without touching /etc/nginx.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "nginx-muskel.conf.template"

STANDALONE = """\
# Complete nginx.conf for `nginx -p PREFIX -c FILE` (rendered by deploy/render_nginx.py --standalone).
{user_line}worker_processes 2;
pid nginx.pid;
error_log logs/error.log warn;
events {{
    worker_connections 1024;
}}
http {{
    default_type application/octet-stream;
    sendfile on;
    # Debian's build puts temporary files under /var/lib/nginx; keep them under the prefix instead.
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;

{site}
}}
"""


def render_site(*, server_name: str, certificate: str, certificate_key: str, upstreams: list[str],
                https_port: int = 443, http_port: int = 80,
                access_log: str = "/var/log/nginx/muskel.access.log") -> str:
    if not upstreams:
        raise ValueError("at least one upstream (host:port) is needed")
    for upstream in upstreams:
        if not re.fullmatch(r"[\w.\-\[\]:]+:\d+", upstream):
            raise ValueError(f"upstream must be host:port, not {upstream!r}")
    values = {
        "replica_count": str(len(upstreams)),
        "upstream_servers": "\n".join(f"    server {u} max_fails=3 fail_timeout=10s;" for u in upstreams),
        "server_name": server_name,
        "certificate": certificate,
        "certificate_key": certificate_key,
        "https_port": str(https_port),
        "http_port": str(http_port),
        "https_port_suffix": "" if https_port == 443 else f":{https_port}",
        "access_log": access_log,
    }
    text = TEMPLATE.read_text()
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    left = re.findall(r"\{\{\w+\}\}", text)
    if left:
        raise ValueError(f"template placeholders without a value: {left}")
    return text


def render_standalone(site: str, *, user: str | None = None) -> str:
    """``user``: the workers' account; only meaningful when nginx is started as root (default nobody)."""
    indented = "\n".join(("    " + line) if line.strip() else "" for line in site.splitlines())
    return STANDALONE.format(user_line=f"user {user};\n" if user else "", site=indented)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render Muskel's nginx configuration.")
    parser.add_argument("--server-name", required=True, help="the site's host name(s), as in the certificate")
    parser.add_argument("--cert", required=True, help="server certificate (PEM), e.g. from deploy/make-ca")
    parser.add_argument("--key", required=True, help="its private key")
    parser.add_argument("--upstream", action="append", default=[], metavar="HOST:PORT",
                        help="a Streamlit replica (repeat; default 127.0.0.1:8501 and 127.0.0.1:8502)")
    parser.add_argument("--https-port", type=int, default=443)
    parser.add_argument("--http-port", type=int, default=80)
    parser.add_argument("--access-log", default="/var/log/nginx/muskel.access.log")
    parser.add_argument("--standalone", action="store_true", help="a complete nginx.conf (for nginx -p/-c)")
    parser.add_argument("--user", help="with --standalone: the workers' account (nginx started as root)")
    args = parser.parse_args(argv)
    try:
        site = render_site(server_name=args.server_name, certificate=args.cert, certificate_key=args.key,
                           upstreams=args.upstream or ["127.0.0.1:8501", "127.0.0.1:8502"],
                           https_port=args.https_port, http_port=args.http_port, access_log=args.access_log)
    except ValueError as exc:
        print(f"render_nginx: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(render_standalone(site, user=args.user) if args.standalone else site)
    return 0


if __name__ == "__main__":
    sys.exit(main())
