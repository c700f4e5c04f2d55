"""The test application's active check: probe.py <host> <port> <application> <git tag>.

Exits 0 when http://<host>:<port>/ answers with the page of that release
(`<application> <git tag>`, as the tests' fetch_command writes it), 1 otherwise.
"""
import sys
import urllib.request

host, port, application, tag = sys.argv[1:5]
expected = f"{application} {tag}"
try:
    with urllib.request.urlopen(f"http://{host}:{port}/", timeout=2) as response:
        page = response.read().decode()
except OSError as error:
    print(f"{host}:{port} does not answer: {error}", file=sys.stderr)
    sys.exit(1)
if page.strip() != expected:
    print(f"{host}:{port} serves {page.strip()!r}, not {expected!r}", file=sys.stderr)
    sys.exit(1)
