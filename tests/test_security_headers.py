"""Security headers on every answer, Django's and nginx's alike, and a Content-Security-Policy
strict enough that a page could run no script and load nothing it does not load now, yet under
which every page loads in a real browser without one thing refused."""

import ast
import base64
import hashlib
import json
import re
import subprocess
import sys

import lxml.html
import pytest
from conftest import REPO, desk_env, migrated, story_copy
from django.conf import settings as django_settings
from django.test import Client, override_settings
from django.utils.csp import build_policy

# The session's nginx, with deploy/nginx.conf as shipped, in front of Django's live server.
from test_static_tree import CONF, nginx, site  # noqa: F401

from wiredesk.desk import pipeline
from wiredesk.models import Story

HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "x-frame-options": "DENY",
}
SECURITY = ["content-security-policy", "permissions-policy", "strict-transport-security", *HEADERS]
POWERFUL = ["camera", "microphone", "geolocation", "payment", "usb", "serial", "hid", "midi", "display-capture"]
# What a policy must never allow: any script, any origin, or an inline anything.
LOOSE = [
    "'unsafe-inline'",
    "'unsafe-eval'",
    "'unsafe-hashes'",
    "'wasm-unsafe-eval'",
    "'strict-dynamic'",
    "*",
    "http:",
    "https:",
    "blob:",
    "'nonce-",
]


def policy() -> str:
    return build_policy(django_settings.SECURE_CSP)


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in filter(None, (p.strip() for p in header.split(";"))):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def ninjs(uri: str, headline: str, text: str) -> bytes:
    return json.dumps(
        {
            "uri": uri,
            "headline": headline,
            "body_text": text,
            "firstcreated": "2026-11-24T10:00:00Z",
            "subject": [
                {"name": "News", "literal": "category:News"},
                {"name": "Harbours", "literal": "keyword:Harbours"},
            ],
        }
    ).encode()


def publish() -> dict[str, tuple[str, int]]:
    """A story of each kind a reader meets, and every kind of page: each address and its status."""

    def ingest(data: bytes):
        return pipeline.process(pipeline.receive(data, source="hp", transport="cli").pk)

    [story] = ingest(
        ninjs(
            "urn:t:cranes",
            "Harbour cranes return to service",
            "PORT SALVIN (HP) - The harbour's cranes worked again on Monday.\n\nQueues had cleared.",
        )
    )
    ingest(ninjs("urn:t:dam", "Dam cracks", "NORDHAVEN (HP) - Inspectors found cracks."))
    ingest(b'{"uri": "urn:t:dam", "version": 9, "pubstatus": "canceled", "headline": "KILL"}')
    killed = Story.objects.get(uri="urn:t:dam")
    return {
        "home": ("/", 200),
        "latest": ("/latest/", 200),
        "article": (story.url, 200),
        "moved": (story.url.replace("harbour-cranes", "cranes"), 301),
        "gone": (killed.get_absolute_url(), 410),
        "section": ("/section/news/", 200),
        "source": ("/source/hp/", 200),
        "topic": ("/topic/harbours/", 200),
        "place": ("/place/port-salvin/", 200),
        "archive": ("/archive/", 200),
        "day": ("/archive/2026/11/24/", 200),
        "search": ("/search/?q=cranes", 200),
        "no search": ("/search/?section=%00", 400),
        "rss": ("/feeds/rss.xml", 200),
        "atom": ("/section/news/atom.xml", 200),
        "json feed": ("/feeds/feed.json", 200),
        "sitemap index": ("/sitemap.xml", 200),
        "sitemap": ("/sitemaps/articles.xml", 200),
        "news sitemap": ("/sitemaps/news.xml", 200),
        "robots": ("/robots.txt", 200),
        "healthz": ("/healthz", 200),
        "not found": ("/no-such-page/", 404),
        "push": ("/push/hp", 405),
    }


@pytest.fixture
def pages(db):
    return publish()


def test_every_answer_carries_the_security_headers(client, pages):
    for name, (url, status) in pages.items():
        # Twice: the second answer is the one a web process kept (wiredesk.publish.pagecache).
        for _ in range(2):
            response = client.get(url)
            assert response.status_code == status, name
            assert response["Content-Security-Policy"] == policy(), name
            assert response["Permissions-Policy"] == django_settings.PERMISSIONS_POLICY, name
            assert {header: response.get(header) for header in HEADERS} == HEADERS, name
            assert "Strict-Transport-Security" not in response, name  # plain http


def test_the_policy_allows_no_script_no_origin_and_nothing_inline():
    header = policy()
    found = directives(header)
    assert found["default-src"] == ["'none'"]
    assert found.get("script-src", ["'none'"]) == ["'none'"] and "script-src-elem" not in found
    assert found["base-uri"] == found["frame-ancestors"] == ["'none'"] and found["form-action"] == ["'self'"]
    assert found["img-src"] == ["data:"] and found["connect-src"] == ["'self'"]
    assert all(re.fullmatch(r"'sha256-[A-Za-z0-9+/]{43}='", source) for source in found["style-src"])
    assert not any(loose in header for loose in LOOSE)
    permissions = dict(item.split("=") for item in django_settings.PERMISSIONS_POLICY.split(", "))
    assert set(permissions.values()) == {"()"} and set(POWERFUL) <= set(permissions)


def _sha256(text: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'"


def test_the_policy_covers_everything_each_page_references(client, pages):
    styles = directives(policy())["style-src"]
    used = set()
    for name, (url, _status) in pages.items():
        response = client.get(url)
        if not response["Content-Type"].startswith("text/html") or not response.content:
            continue
        doc = lxml.html.fromstring(response.content)
        for style in doc.xpath("//style"):
            used.add(_sha256(style.text))
            assert _sha256(style.text) in styles, name
        # Nothing else is fetched, run or styled: no src anywhere, no style or event attribute,
        # no script but data, no link but the data: icon and those that fetch nothing.
        assert doc.xpath("//@src | //@style | //@srcset | //@background | //@poster | //@data") == [], name
        assert [a for a in doc.xpath("//@*") if a.attrname.lower().startswith("on")] == [], name
        assert set(doc.xpath("//script/@type")) <= {"application/ld+json"}, name
        assert len(doc.xpath("//script")) == len(doc.xpath("//script[@type]")), name
        assert all(rel in ("icon", "alternate", "canonical") for rel in doc.xpath("//link/@rel")), name
        assert all(href.startswith("data:") for href in doc.xpath("//link[@rel='icon']/@href")), name
        assert all(action.startswith("/") and not action.startswith("//") for action in doc.xpath("//form/@action"))
        assert doc.xpath("//base | //iframe | //frame | //object | //embed | //img | //svg//image") == [], name
    assert used == set(styles), "a hash in the policy allows a style no page has"


def proxy_settings(tmp_path, **env) -> tuple:
    code = (
        "from wiredesk.config import settings as s; "
        "print((getattr(s, 'SECURE_PROXY_SSL_HEADER', None), getattr(s, 'SECURE_HSTS_SECONDS', 0)))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code],
        env={**desk_env(), "WIREDESK_DATA": str(tmp_path), **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return ast.literal_eval(shown)


def test_hsts_is_sent_over_https_behind_a_tls_proxy_and_never_otherwise(pages, tmp_path):
    url = pages["article"][0]
    behind = proxy_settings(tmp_path, WIREDESK_BEHIND_PROXY="1")
    alone = proxy_settings(tmp_path)
    assert alone == (None, 0) and behind == (("HTTP_X_FORWARDED_PROTO", "https"), 365 * 24 * 3600)
    for (proxy_header, seconds), proto, expected in [
        (behind, "https", "max-age=31536000"),
        (behind, "http", None),
        (behind, None, None),
        # Without a proxy in front, a client could claim https: nothing is taken from it.
        (alone, "https", None),
    ]:
        with override_settings(SECURE_PROXY_SSL_HEADER=proxy_header, SECURE_HSTS_SECONDS=seconds):
            headers = {"HTTP_X_FORWARDED_PROTO": proto} if proto else {}
            for path in (url, "/no-such-page/", "/healthz"):
                assert Client().get(path, **headers).get("Strict-Transport-Security") == expected, (proto, path)


def test_check_deploy_warns_only_of_what_the_readme_explains(tmp_path):
    # A data folder as deployed: migrated, which keeps the secret key there.
    migrated(tmp_path)
    env = {**desk_env(), "WIREDESK_DATA": str(tmp_path), "DJANGO_SETTINGS_MODULE": "wiredesk.config.settings"}
    # Set in this process for Playwright (conftest's chromium), and rightly an error in deployment.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    warned = {}
    for behind in ("0", "1"):
        result = subprocess.run(
            [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "ERROR"],
            env={**env, "WIREDESK_BEHIND_PROXY": behind},
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        warned[behind] = set(re.findall(r"\(security\.(W\d+)\)", result.stdout + result.stderr))
    assert warned == {"0": {"W003", "W004", "W008"}, "1": {"W003", "W005", "W008", "W021"}}
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("### Security headers") :]
    section = section[: section.index("\n## ")]
    assert all(f"**{code}**" in section for code in warned["0"] | warned["1"])


# nginx -----------------------------------------------------------------------------------------


def nginx_values() -> dict[str, str]:
    """The values deploy/nginx.conf's maps give its security headers."""
    text = CONF.read_text()
    found = {}
    for variable in ("wiredesk_csp", "wiredesk_permissions", "wiredesk_hsts"):
        block = re.search(r"map \S+ \$" + variable + r" \{(.*?)\n\}", text, re.DOTALL)[1]
        found[variable] = dict(re.findall(r'^\s*(\S+) "([^"]*)";', block, re.MULTILINE))
    return found


def test_nginx_conf_sends_djangos_policy_and_hsts_over_https_only():
    found = nginx_values()
    assert found["wiredesk_csp"] == {"default": policy()}
    assert found["wiredesk_permissions"] == {"default": django_settings.PERMISSIONS_POLICY}
    assert found["wiredesk_hsts"] == {"https": "max-age=31536000", "default": ""}


def test_every_security_header_of_nginx_goes_with_its_errors_too():
    lines = [line.strip() for line in CONF.read_text().splitlines() if line.strip().startswith("add_header")]
    security = [line for line in lines if line.split()[1].lower() in SECURITY]
    assert len(security) == 2 * len(SECURITY)  # the server's, and the sitemaps' location's own
    assert all(line.endswith(" always;") for line in security)


def test_nginx_serves_the_tree_with_djangos_security_headers(site, ingest):  # noqa: F811
    [result] = ingest(story_copy(), source="hp")
    for path in (
        result.url,
        "/",
        "/section/news/",
        "/source/hp/",
        "/feeds/rss.xml",
        "/section/news/feed.json",
        "/sitemap.xml",
        "/sitemaps/news.xml",
        "/robots.txt",
    ):
        status, headers, _ = site.through_nginx(path)
        assert status == 200 and "last-modified" in headers, f"{path} is not from the tree"
        django = site.from_django(path)[1]
        assert {h: headers.get(h) for h in SECURITY} == {h: django.get(h) for h in SECURITY}, path
        assert headers["content-security-policy"] == policy()
    # What nginx passes on is Django's answer, with Django's headers once, not nginx's beside them.
    status, headers, _ = site.through_nginx("/no-such-page/")
    assert status == 404 and headers["content-security-policy"] == policy()


# In a browser -----------------------------------------------------------------------------------

WATCH = """
window.violations = [];
document.addEventListener("securitypolicyviolation",
                          event => window.violations.push(`${event.effectiveDirective} ${event.blockedURI}`));
"""
# A rule of the site's style each page should show, had its <style> been refused.
STYLED = {"article": (".masthead", "textAlign", "center"), "search": (".search-form", "display", "flex")}


@pytest.mark.django_db(transaction=True)
def test_every_page_loads_in_chromium_without_a_policy_refusing_anything(live_server, chromium):
    pages = publish()
    context = chromium.new_context()
    try:
        for name in ("home", "article", "section", "archive", "search", "gone", "not found"):
            page = context.new_page()
            console = []
            page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
            page.add_init_script(WATCH)
            page.goto(live_server.url + pages[name][0])
            selector, prop, value = STYLED.get(name, STYLED["article"])
            assert page.evaluate(f"getComputedStyle(document.querySelector('{selector}')).{prop}") == value, name
            assert page.evaluate("window.violations") == [], name
            assert [line for line in console if "Policy" in line or "policy" in line] == [], name
            page.close()
        # The watch sees what the policy refuses: a style no hash allows, added now.
        page = context.new_page()
        page.add_init_script(WATCH)
        page.goto(live_server.url + pages["home"][0])
        page.evaluate("document.head.append(Object.assign(document.createElement('style'), {textContent: 'p{}'}))")
        page.wait_for_function("window.violations.length > 0")
        assert page.evaluate("window.violations") == ["style-src-elem inline"]
    finally:
        context.close()
