"""The HTML export opened in a real headless Chromium: its title, every turn, and every
embedded image decoded. Skips (saying why) where no Chromium is installed; CI installs it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path

import pytest

from studio.export import write_export
from studio.store import Store
from tests.transcript_samples import fill, ticking_clock

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

PROBE = """<script>
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const report = document.createElement("div");
  report.id = "test-report";
  report.setAttribute("data-title", document.title);
  report.setAttribute("data-turns", String(document.querySelectorAll("section.turn").length));
  report.setAttribute("data-images", String(images.length));
  report.setAttribute(
    "data-decoded", String(images.filter((i) => i.complete && i.naturalWidth > 0).length)
  );
  report.setAttribute("data-background", getComputedStyle(document.body).backgroundColor);
  const code = document.querySelector(".highlight .nb");
  report.setAttribute("data-code", code ? getComputedStyle(code).color : "");
  document.body.appendChild(report);
});
</script>
"""
"""Test-only: records what the browser made of the page in a DOM element that --dump-dom
prints. The export itself has no script (its Content Security Policy forbids any)."""


def chromium() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(
        "no Chromium found (looked for " + ", ".join(BROWSERS) + "); "
        "install Debian's `chromium` package to run the browser test"
    )


def open_in_chromium(binary: str, page: Path, profile: Path, *, dark: bool = False) -> str:
    args = [binary, "--headless", "--disable-gpu", "--no-first-run", "--disable-extensions"]
    if dark:
        args.append("--force-dark-mode")  # prefers-color-scheme: dark
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    args += [
        f"--user-data-dir={profile}",
        "--virtual-time-budget=5000",
        "--dump-dom",
        page.as_uri(),
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("dark", "background"), [(False, "rgb(255, 255, 255)"), (True, "rgb(13, 17, 23)")]
)
def test_the_html_export_renders_every_turn_and_decodes_every_image(
    tmp_path: Path, dark: bool, background: str
) -> None:
    binary = chromium()
    with Store.open(tmp_path / "studio.db", clock=ticking_clock()) as store:
        sample = fill(store, tmp_path / "media")
        conversation = store.get_conversation(sample.chat)
        assert conversation is not None
        turns = len(store.messages(sample.chat))
        (page,) = write_export(store, [sample.chat], "html", tmp_path / "export" / "chat.html")
    text = page.read_text("utf-8")
    # The copy under test gets the probe, and a policy that lets just that inline script run.
    assert "default-src 'none'" in text
    probed = text.replace("default-src 'none'", "default-src 'none'; script-src 'unsafe-inline'")
    probed = probed.replace("</body>", PROBE + "</body>")
    copy = tmp_path / "probe.html"
    copy.write_text(probed, encoding="utf-8")

    dom = open_in_chromium(binary, copy, tmp_path / "profile", dark=dark)

    match = re.search(r'<div id="test-report"([^>]*)>', dom)
    assert match is not None, f"the probe did not run; the page was:\n{dom[:2000]}"
    report = {k: unescape(v) for k, v in re.findall(r'data-([a-z]+)="([^"]*)"', match.group(1))}
    assert report["title"] == conversation.title
    assert int(report["turns"]) == turns
    assert int(report["images"]) == 2  # the user's attachment and the job's result
    assert report["decoded"] == report["images"]
    # Light or dark as the reader prefers, code colours included (Pygments' palettes).
    assert report["background"] == background
    assert report["code"] == ("rgb(230, 237, 243)" if dark else "rgb(0, 128, 0)")
