"""Browser tier: a reviewer at 1,366 x 768 chooses a field and sees its page with the evidence box
drawn where the document prints the value (real Chromium, live server, server-rendered PNG)."""

import time

import pytest

from tests.ops.test_browser import ARTIFACTS, PASSWORD, browser_page, playwright_api  # noqa: F401

from .review_runs import verified_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _until(page, expression: str, timeout: float = 30.0) -> None:
    """Poll `expression` in the page (wait_for_function evals, which the admin's CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        time.sleep(0.1)


def _box(page, selector):
    return page.eval_on_selector(
        selector,
        "e => { const r = e.getBoundingClientRect();"
        " return {x: r.x, y: r.y, w: r.width, h: r.height}; }",
    )


def test_choosing_a_field_shows_its_page_with_the_evidence_box(
    browser_page,  # noqa: F811
    live_server,
    django_user_model,
    settings,
    tmp_path,
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    staff = django_user_model.objects.create_superuser("reviewer", password=PASSWORD)
    run = verified_run(staff)
    plan = run.evidence["plan"]
    assert plan["status"] == "verified" and plan["page"] == 2
    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 768})
    violations = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", staff.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")

    page.goto(f"{live_server.url}/admin/extraction/extractionrun/{run.pk}/review/")
    _until(page, "document.getElementById('review-page-img').naturalWidth > 0")
    assert page.inner_text("#review-page-number") == "1"
    # The invented value stands out; nothing is boxed before a field is chosen.
    assert "not found" in page.inner_text("tr[data-field=buyer_name]")
    assert page.locator("tr.review-flagged").count() == 1
    assert page.locator(".review-box").count() == 0

    page.click("tr[data-field=plan] td:first-child")
    _until(
        page,
        "document.getElementById('review-page-img').src.endsWith('/page/2.png')"
        " && document.getElementById('review-page-img').complete"
        " && document.getElementById('review-page-img').naturalWidth > 0",
    )
    assert page.inner_text("#review-page-number") == "2"
    assert page.locator(".review-box").count() == 1
    image, box = _box(page, "#review-page-img"), _box(page, ".review-box")
    width, height = (
        run.document.text_pages.get(number=2).width,
        run.document.text_pages.get(number=2).height,
    )
    left, bottom, right, top = plan["bbox"]
    # The box sits on the image where the text layer says the value is printed (±2 px).
    assert abs(box["x"] - (image["x"] + image["w"] * left / width)) < 2
    assert abs(box["y"] - (image["y"] + image["h"] * (height - top) / height)) < 2
    assert abs(box["w"] - image["w"] * (right - left) / width) < 2
    assert box["w"] > 5 and box["h"] > 3
    # The whole page and the form fit side by side at 1,366 px: nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-page-highlight.png"))

    # A field that is not in the document shows why, and no box.
    page.click("tr[data-field=buyer_name] td:first-child")
    assert page.locator(".review-box").count() == 0
    assert "not found" in page.inner_text("#review-selection")
    assert violations == []  # the page's script and boxes work under the admin's CSP
