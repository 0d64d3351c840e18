"""The dashboard in a real browser: sim-app serves it, headless Chromium drives it.

The test starts `python -m sim.app` on a free port, loads the page with Playwright, steps
the model, switches the policy and checks the page followed; it saves a screenshot. The
same code path makes the README's screenshot:

    .venv/bin/python tests/test_app.py            # writes docs/img/dashboard.png
    .venv/bin/python tests/test_app.py out.png    # elsewhere

Chromium is Debian's (/usr/bin/chromium; `apt-get install -y chromium`), never a browser
downloaded by Playwright.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
README_SCREENSHOT = ROOT / "docs" / "img" / "dashboard.png"
# no sandbox as root; no background connections (refused on a closed network, and slow)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1500, "height": 1000}
TIMEOUT_MS = 30_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(log: Path, port: int | None = None, timeout: float = 90.0):
    """sim-app in its own process group, yielding its URL once it answers; the whole group
    is ended on the way out, whatever happened."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}/"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "sim.app", "--port", str(port)],
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"sim-app exited with {proc.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"sim-app did not answer on {url}:\n{log.read_text()}")
            time.sleep(0.3)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@contextlib.contextmanager
def browser_page():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(TIMEOUT_MS)
            yield page
        finally:
            browser.close()


# ---------------------------------------------------------------- driving the page

def days_simulated(page) -> int:
    return int(page.locator("#days-simulated").inner_text())


def active_policies(page) -> str:
    return page.locator("#active-policies").inner_text()


def wait_for_days(page, more_than: int) -> int:
    page.wait_for_function(
        f"() => parseInt(document.querySelector('#days-simulated')?.textContent) > {more_than}",
        timeout=TIMEOUT_MS)
    return days_simulated(page)


def open_dashboard(page, url: str) -> None:
    page.goto(url)
    page.locator("#days-simulated").wait_for()
    # the five figures: territory, its changes, homicides, gang members, security forces killed
    page.locator("img").nth(3).wait_for()


def chart_sources(page) -> list[str]:
    imgs = page.locator("img")
    return [imgs.nth(i).get_attribute("src") or "" for i in range(imgs.count())]


def step(page, times: int = 1) -> int:
    """Click Step `times` times, each time waiting for the day counter to move."""
    button = page.get_by_role("button", name="Step", exact=True)
    days = days_simulated(page)
    for _ in range(times):
        button.click()
        days = wait_for_days(page, days)
    return days


def step_until(page, days: int) -> int:
    """Click Step until at least `days` days are simulated."""
    while (done := days_simulated(page)) < days:
        step(page)
    return done


def play_until(page, days: int) -> int:
    """Press Play, wait until `days` days are simulated, press Pause."""
    page.get_by_role("button", name="▶", exact=True).click()
    page.wait_for_function(
        f"() => parseInt(document.querySelector('#days-simulated')?.textContent) >= {days}",
        timeout=TIMEOUT_MS)
    page.get_by_role("button", name="❚❚", exact=True).click()
    page.get_by_role("button", name="Step", exact=True).wait_for()
    page.wait_for_function(  # Step is enabled again once the play loop has stopped
        "() => [...document.querySelectorAll('button')].some("
        "b => b.textContent.trim() === 'Step' && !b.disabled)", timeout=TIMEOUT_MS)
    # a frame under way when Pause came may still arrive: the counter has settled when it has
    # not moved for three seconds (a loaded 2-core machine can take more than one to render)
    settled, still, deadline = -1, 0, time.monotonic() + TIMEOUT_MS / 1000
    while still < 3:
        if time.monotonic() > deadline:
            raise AssertionError("the day counter did not settle after Pause")
        days = days_simulated(page)
        still = still + 1 if days == settled else 0
        settled = days
        time.sleep(1.0)
    return settled


def set_render_interval(page, days: int) -> None:
    """Move SolaraViz's Render Interval slider (days per Step and per frame) with the keys."""
    slider = page.locator(".v-input").filter(
        has=page.locator("label", has_text="Render Interval")).get_by_role("slider")
    slider.focus()
    for _ in range(200):
        now = int(float(slider.get_attribute("aria-valuenow")))
        if now == days:
            return
        slider.press("ArrowRight" if now < days else "ArrowLeft")
    raise AssertionError(f"render interval stuck at {now}, wanted {days}")


def choose(page, label: str, option: str) -> None:
    """Pick `option` in the (Vuetify) select labelled `label`."""
    page.locator(".v-select").filter(
        has=page.locator("label", has_text=re.compile(rf"^{re.escape(label)}$"))).click()
    page.locator(".menuable__content__active .v-list-item").filter(
        has_text=re.compile(rf"^\s*{re.escape(option)}\s*$")).click()


def switch_policy(page, policy: str) -> None:
    """Choose `policy` in the switch's select and apply it."""
    choose(page, "Policy", policy)
    page.get_by_role("button", name=re.compile(r"^Apply from")).click()
    page.get_by_text(f"Switched to {policy} on").wait_for()


def take_screenshot(url: str, path: Path, until_days: int = 1276, policy: str = "truce",
                    then_days: int = 551, interval: int = 29) -> Path:
    """The README's picture: the historical run stepped to mid-2014 (`interval` days a
    Step), then `policy` instead of mano dura for another year and a half."""
    with browser_page() as page:
        open_dashboard(page, url)
        set_render_interval(page, interval)
        step_until(page, until_days)
        switch_policy(page, policy)
        switched_at = days_simulated(page)
        assert step_until(page, switched_at + then_days) >= switched_at + then_days
        assert active_policies(page) == policy
        page.evaluate("document.querySelectorAll('*').forEach(e => { e.scrollTop = 0 })")
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
    return path


# ---------------------------------------------------------------- the test

@pytest.mark.skipif(not Path(CHROMIUM).exists(),
                    reason=f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
def test_dashboard_steps_and_switches_policy(tmp_path: Path) -> None:
    pytest.importorskip("playwright.sync_api")
    with serve(tmp_path / "sim-app.log") as url:
        with browser_page() as page:
            open_dashboard(page, url)
            assert days_simulated(page) == 0
            assert active_policies(page) == "baseline"
            assert "starts 01 January 2011" in page.inner_text("body")
            assert "5% model" in page.inner_text("body")
            charts = chart_sources(page)
            assert len(charts) == 5 and all(charts)

            days = step(page, 3)
            assert days == 21  # Step advances by the render interval, a week
            assert "21 January 2011" in page.inner_text("body")  # the last simulated day
            after = chart_sources(page)
            assert all(a != b for a, b in zip(after, charts)), "the figures were not redrawn"

            switch_policy(page, "truce")
            assert active_policies(page) == "truce"
            assert "Switched to truce on 2011-01-22" in page.inner_text("body")

            days = step(page, 2)
            assert days == 35
            assert active_policies(page) == "truce"
            assert "04 February 2011" in page.inner_text("body")

            # Reset re-creates the model from the controls (DashboardModel's keywords)
            choose(page, "scenario", "steady_mano_dura")
            page.get_by_role("button", name="Reset", exact=True).click()
            page.get_by_text("Scenario: steady_mano_dura, seed 0").wait_for()
            assert days_simulated(page) == 0
            assert active_policies(page) == "mano_dura"
            assert "Switched to" not in page.inner_text("body")
            assert step(page) == 7

            # Play runs on until Pause
            days = play_until(page, 21)
            assert days >= 21
            time.sleep(1.5)
            assert days_simulated(page) == days, "the model ran on after Pause"

        # the README screenshot's code path (Play, Pause, switch), on a short run
        shot = take_screenshot(url, tmp_path / "dashboard.png", until_days=58, then_days=29)
    assert shot.stat().st_size > 50_000


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else README_SCREENSHOT
    log = Path(os.environ.get("TMPDIR", "/tmp")) / "sim-app-screenshot.log"
    with serve(log) as url:
        print(take_screenshot(url, target))
