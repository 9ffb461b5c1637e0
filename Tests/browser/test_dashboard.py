"""The dashboard and tenant portal in real headless Chromium against the real pipeline
(issue 19's "What it must show"). Each test saves screenshots of the pages it checks."""
import json
import urllib.error
import urllib.request

from selenium.webdriver.common.by import By

from stack import wait_for


def create_endpoint(page, tenant, url, types=""):
    """Creates an endpoint through the form; its id (from the page it lands on)."""
    page.open("/ui/endpoints")
    details = page.d.find_element(By.CSS_SELECTOR, "details.card")
    if details.get_attribute("open") is None:
        details.find_element(By.TAG_NAME, "summary").click()
    page.find("new-tenant").send_keys(tenant)
    page.find("new-url").send_keys(url)
    if types:
        page.find("new-types").send_keys(types)
    page.click("create-endpoint")
    wait_for(lambda: "/ui/endpoints/ep_" in page.d.current_url, 60, "the new endpoint's page")
    return page.d.current_url.rsplit("/", 1)[-1].split("?")[0]


def statuses(page):
    return [e.text for e in page.all("attempt-status")]


def test_login_refuses_a_wrong_key_and_shows_the_overview(page, stack):
    page.open("/ui/")
    assert "/ui/login" in page.d.current_url
    page.find("key").send_keys("sk_not_a_key")
    page.click("login")
    # The click does not wait for the answer's page to load (a clean-clone run looked too soon).
    wait_for(lambda: page.all("login-error"), 60, "the login page's error")
    assert "unknown or revoked" in page.text("login-error")
    page.shot("login refused")
    page.login()
    assert page.d.title.startswith("Overview")
    for tile in ["tile-rate", "tile-success", "tile-dlq", "tile-circuits"]:
        assert page.text(tile)
    page.shot("overview")
    page.click("logout")
    page.open("/ui/endpoints")
    assert "/ui/login" in page.d.current_url


def test_create_an_endpoint_send_a_test_and_see_its_attempt(page, stack, receiver):
    receiver.answer(204)
    page.login()
    endpoint = create_endpoint(page, "acme", receiver.url)
    assert page.text("secret").startswith("whsec_")
    assert page.text("endpoint-url") == receiver.url
    page.shot("endpoint created")
    page.click("send-test")
    assert "Test event" in page.text("flash")
    page.until(lambda: "204" in statuses(page), "the test's attempt (204) in the log")
    page.shot("test attempt")
    page.click("open-attempt")
    assert page.text("drawer-status") == "204"
    assert "webhook-id:" in page.text("request-headers")
    page.shot("attempt drawer", show="drawer")
    page.open("/ui/endpoints")
    assert endpoint in [e.text for e in page.all("endpoint-link")]
    page.shot("endpoints list")


def test_a_broken_receiver_shows_in_the_log_and_the_success_rate(page, stack, receiver):
    receiver.answer(204)
    page.login()
    create_endpoint(page, "breakable", receiver.url)
    page.click("send-test")
    page.until(lambda: "204" in statuses(page), "a first good attempt")
    receiver.answer(500, b"boom")
    page.click("send-test")
    page.until(lambda: "500" in statuses(page), "a failed attempt (500) in the log")
    rate = page.text("stat-rate")
    assert rate != "100.0 %", rate
    page.shot("failing endpoint")
    page.open("/ui/endpoints?")
    rows = page.d.find_elements(By.CSS_SELECTOR, "[data-testid=endpoints] tr")
    row = next(r for r in rows if "breakable" in r.text)
    assert "100.0 %" not in row.find_element(By.CSS_SELECTOR, "[data-testid=rate]").text
    page.shot("endpoints with a failing one")
    receiver.answer(204)


def test_open_a_dead_letter_and_replay_it(page, stack, receiver):
    receiver.answer(503, b"down for maintenance")
    page.login()
    endpoint = create_endpoint(page, "parked", receiver.url)
    page.click("send-test")
    page.until(lambda: page.all("dead-letter-event"), "the test event in the dead letters", path=f"/ui/dead-letters?endpoint={endpoint}")
    page.shot("dead letters")
    receiver.answer(204)
    page.click("dead-letter-event")
    assert "dead" in [e.text for e in page.all("delivery-state")]
    assert '"type" : "sluice.test"' in page.text("payload") or "sluice.test" in page.text("payload")
    page.shot("dead event")
    page.click("replay-dead-letter")
    wait_for(lambda: "/ui/tasks/" in page.d.current_url, 30, "the replay task page")
    page.until(lambda: page.text("task-state") == "succeeded", "the replay to finish")
    assert page.text("task-sent") == "1"
    page.shot("replay finished")
    page.open(f"/ui/endpoints/{endpoint}")
    page.until(lambda: "204" in statuses(page), "the replayed delivery's 204")
    page.shot("replayed delivery")


def test_replay_an_endpoints_history(page, stack, receiver):
    """Issue 20 in the dashboard: the endpoint page's history replay, a dry run then a send."""
    receiver.answer(204)
    page.login()
    endpoint = create_endpoint(page, "history", receiver.url, types="order.*")
    ids = [f"evt_history_{n}" for n in range(2)]
    for event_id in ids:
        stack.api("POST", "/v1/events", {"id": event_id, "type": "order.paid", "tenant": "history", "data": {"n": event_id}})
    got = lambda: sum(1 for webhook_id, _ in receiver.received if webhook_id in ids)
    wait_for(lambda: got() >= 2, 120, "both live deliveries")

    page.open(f"/ui/endpoints/{endpoint}")
    page.find("history-since").send_keys("1h")
    page.click("history-dry-run")
    wait_for(lambda: "/ui/tasks/" in page.d.current_url, 30, "the preview's task page")
    page.until(lambda: page.text("task-state") == "succeeded", "the dry run to finish", timeout=180)
    assert page.d.title.startswith("History replay preview"), page.d.title
    assert page.text("task-matched") == "2" and page.text("task-sent") == "0"
    page.shot("history preview")

    page.open(f"/ui/endpoints/{endpoint}")
    page.find("history-since").send_keys("1h")
    page.click("history-send")
    wait_for(lambda: "/ui/tasks/" in page.d.current_url, 30, "the replay's task page")
    page.until(lambda: page.text("task-state") == "succeeded", "the replay to finish", timeout=180)
    assert page.text("task-sent") == "2"
    assert "sent 2 of 2 matching events of tenant history" in page.text("task-summary"), page.text("task-summary")
    page.shot("history replay finished")
    wait_for(lambda: got() >= 4, 120, "each event delivered again, with its original id")


def test_a_tenant_link_shows_that_tenant_only(page, stack, receiver):
    mine = stack.api("POST", "/v1/endpoints", {"tenant": "tenant-a", "url": receiver.url})["endpoint"]["id"]
    theirs = stack.api("POST", "/v1/endpoints", {"tenant": "tenant-b", "url": receiver.url})["endpoint"]["id"]
    link = json.loads(stack.sluice("portal-link", "--tenant", "tenant-a", "--ttl", "1h", "--url", stack.url, "--json"))["url"]
    page.open(link)
    assert page.text("who") == "tenant tenant-a"
    ids = [e.text for e in page.all("endpoint-link")]
    assert ids == [mine], ids
    page.shot("portal endpoints")
    page.open(f"/ui/endpoints/{theirs}")
    assert page.text("error-status").startswith("404")
    page.shot("other tenant 404")
    page.open(f"/ui/endpoints/{mine}")
    assert page.all("send-test"), "a writable link may manage its endpoints"
    assert not page.all("portal-create")

    read_only = json.loads(stack.sluice("portal-link", "--tenant", "tenant-a", "--read-only", "--url", stack.url, "--json"))["url"]
    page.d.delete_all_cookies()
    page.open(read_only)
    assert page.text("who") == "tenant tenant-a (read-only)"
    page.open(f"/ui/endpoints/{mine}")
    assert not page.all("send-test") and not page.all("disable")
    page.shot("read-only portal")

    tampered = read_only.replace(".1.", ".0.")
    page.d.delete_all_cookies()
    page.open(tampered)
    assert page.text("error-status").startswith("403")


def test_a_script_in_a_response_renders_as_text(page, stack, receiver):
    receiver.answer(500, b"<script>document.title='pwned';window.pwned=1</script><b>bold</b>")
    page.login()
    create_endpoint(page, "xss", receiver.url)
    page.click("send-test")
    page.until(lambda: "500" in statuses(page), "the attempt with the script excerpt")
    page.click("open-attempt")
    excerpt = page.text("response-excerpt")
    assert "<script>document.title='pwned';window.pwned=1</script>" in excerpt
    assert page.d.execute_script("return window.pwned === undefined")
    assert "pwned" not in page.d.title
    assert not page.d.find_elements(By.CSS_SELECTOR, "[data-testid=response-excerpt] script, [data-testid=response-excerpt] b")
    page.shot("script as text", show="drawer")
    receiver.answer(204)


def test_portal_links_route_needs_an_admin_key(stack):
    def post(key):
        request = urllib.request.Request(stack.url + "/ui/portal-links", data=json.dumps({"tenant": "acme", "ttl": "1h"}).encode(), method="POST",
                                         headers={"Authorization": f"Bearer {key}", "content-type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    status, body = post(stack.admin_key)
    assert status == 201 and "/ui/portal?token=v1." in body["url"], body
    tenant_key = json.loads(stack.sluice("keys", "create", "--tenant", "acme", "--json").strip().splitlines()[-1])["key"]
    assert post(tenant_key)[0] == 401
    assert post("sk_nope")[0] == 401


def test_the_overview_and_lists_after_the_activity(page, stack):
    """Runs last: the pages an operator opens first, with what the tests above did."""
    page.login()
    page.until(lambda: page.text("tile-success") != "–", "attempts on the overview")
    assert int(page.text("tile-dlq")) >= 1
    assert len(page.d.find_elements(By.CSS_SELECTOR, "[data-testid=worst] tr")) >= 2
    page.shot("overview with activity")
    page.open("/ui/endpoints")
    page.shot("endpoints")
    page.open("/ui/dead-letters")
    assert page.all("dead-letter-event")
    page.shot("dead letters")
    page.click("dry-run")
    wait_for(lambda: "/ui/tasks/" in page.d.current_url, 30, "the dry-run task page")
    page.until(lambda: page.text("task-state") == "succeeded", "the dry run to finish")
    assert int(page.text("task-matched")) >= 1
    page.shot("dry run")
    page.open("/ui/ops")
    page.shot("ops events")
    page.open("/ui/portal-links")
    page.find("portal-tenant").send_keys("acme")
    page.click("portal-create")
    assert "/ui/portal?token=v1." in page.text("portal-url")
    page.shot("portal link")


def test_sessions_and_forms_are_guarded(stack):
    """Without the browser: cookie attributes, a form without the session's CSRF token, a
    tenant session on an operator page, and a page without a session."""
    import http.cookiejar
    import re
    import urllib.parse

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
    login = opener.open(stack.url + "/ui/login")
    assert "SameSite=Strict" in login.headers["Set-Cookie"] and "HttpOnly" in login.headers["Set-Cookie"]
    csrf = re.search(r'name="_csrf" value="([^"]+)"', login.read().decode()).group(1)
    status, headers = post(opener, stack.url + "/ui/login", {"_csrf": "forged", "key": stack.admin_key})
    assert status == 403  # and a new form token: take it from the page again
    csrf = re.search(r'name="_csrf" value="([^"]+)"', opener.open(stack.url + "/ui/login").read().decode()).group(1)
    status, headers = post(opener, stack.url + "/ui/login", {"_csrf": csrf, "key": stack.admin_key, "next": "https://evil.example/"})
    assert status == 303 and headers["Location"] == "/ui/"
    cookie = headers["Set-Cookie"]
    assert "sluice_session=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/ui" in cookie
    assert "Secure" not in cookie  # SLUICE_DASHBOARD_INSECURE_COOKIES=1 here; Secure otherwise (unit-tested)

    endpoint = stack.api("POST", "/v1/endpoints", {"tenant": "guarded", "url": "http://127.0.0.1:9/x"})["endpoint"]["id"]
    status, _ = post(opener, f"{stack.url}/ui/endpoints/{endpoint}/disable", {"_csrf": "not-the-token"})
    assert status == 403
    assert stack.api("GET", f"/v1/endpoints/{endpoint}")["enabled"] is True

    page = opener.open(stack.url + "/ui/endpoints").read().decode()
    token = re.search(r'name="_csrf" value="([^"]+)"', page).group(1)
    status, headers = post(opener, f"{stack.url}/ui/endpoints/{endpoint}/disable", {"_csrf": token})
    assert status == 303
    assert stack.api("GET", f"/v1/endpoints/{endpoint}")["enabled"] is False

    link = json.loads(stack.sluice("portal-link", "--tenant", "guarded", "--url", stack.url, "--json"))["url"]
    tenant = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect())
    assert fetch(tenant, link) == 303
    assert fetch(tenant, stack.url + "/ui/portal-links") == 404
    assert fetch(tenant, stack.url + "/ui/endpoints/" + endpoint) == 200
    assert fetch(urllib.request.build_opener(NoRedirect()), stack.url + "/ui/dead-letters") == 303
    try:
        opener.open(stack.url + "/ui/no/such/page")
        raise AssertionError("an unknown page answered 2xx")
    except urllib.error.HTTPError as error:
        assert error.code == 404 and error.headers["Content-Type"].startswith("text/html")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def post(opener, url, fields):
    try:
        answer = opener.open(urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode(), method="POST"))
        return answer.status, answer.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


def fetch(opener, url):
    try:
        return opener.open(url).status
    except urllib.error.HTTPError as error:
        return error.code
