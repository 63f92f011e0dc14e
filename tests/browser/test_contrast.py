"""Text contrast of links and buttons in every state, measured in Chromium (WCAG 1.4.3: 4.5:1).

axe-core only sees the page at rest. Here each link and button is put in each state — hover,
focus, active through the DevTools protocol (``CSS.forcePseudoState``), visited through a copy
of the stylesheets where ``:visited`` becomes a class (browsers hide visited styles from
scripts) — and its text colour is compared with the background actually behind it.
"""

from __future__ import annotations

import urllib.request

import pytest

pytestmark = pytest.mark.browser

MIN_CONTRAST = 4.5
PAGES = ["/", "/vos-droits", "/en/a-propos/contact", "/projets", "/opposition"]
# Components used across the packages that a page may not show at rest.
SAMPLES = """
<div id="contrast-samples">
  <p><a class="button" href="#s1">Primaire</a> <a class="button button-secondary" href="#s2">
  Secondaire</a> <a class="button button-danger" href="#s3">Danger</a>
  <button type="button">Bouton</button> <button type="button" class="button-secondary">B2</button>
  <button type="button" class="button-danger">B3</button></p>
  <p class="callout"><a href="#s4">lien dans un encadré</a></p>
  <div class="notice"><a href="#s5">lien dans un avis</a></div>
  <div class="warning"><a href="#s6">lien dans un avertissement</a></div>
  <div class="error-summary"><a href="#s7">lien d'erreur</a></div>
  <nav class="toc"><a href="#s8">lien de sommaire</a></nav>
  <p><span class="badge">badge</span> <span class="badge badge-warn">retard</span>
  <span class="badge badge-ok">publié</span></p>
</div>
"""

CONTRAST_SCRIPT = """
(element) => {
  const parse = (value) => {
    const m = value.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const luminance = (c) => {
    const f = (v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  let background = null;
  for (let node = element; node && node.nodeType === 1; node = node.parentElement) {
    const c = parse(getComputedStyle(node).backgroundColor);
    if (c && c.a > 0) { background = c; break; }
  }
  background = background || {r: 255, g: 255, b: 255, a: 1};
  const colour = parse(getComputedStyle(element).color);
  const [l1, l2] = [luminance(colour), luminance(background)].sort((a, b) => b - a);
  return {ratio: (l1 + 0.05) / (l2 + 0.05), colour: getComputedStyle(element).color,
          background: `rgb(${background.r}, ${background.g}, ${background.b})`};
}
"""


@pytest.fixture
def csp_free_page(browser):
    # The samples and the visited-as-class stylesheet are injected by the test itself.
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


SELECTOR = "a, button, .button, .badge"


def _describe(locator) -> str:
    return locator.evaluate(
        "e => e.tagName.toLowerCase() + (e.className ? '.' + e.className.split(' ').join('.') : '')"
        " + ' «' + e.textContent.trim().slice(0, 30) + '»'")


def _problems(page, state: str) -> list[str]:
    """Elements whose text falls under the minimum contrast in ``state``."""
    session = page.context.new_cdp_session(page)
    session.send("DOM.enable")
    session.send("CSS.enable")
    root = session.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node_ids = session.send("DOM.querySelectorAll", {"nodeId": root, "selector": SELECTOR})[
        "nodeIds"]
    elements = page.locator(SELECTOR)
    assert elements.count() == len(node_ids)
    found = []
    for index, node_id in enumerate(node_ids):
        element = elements.nth(index)
        if not element.is_visible():
            continue
        forced = state not in ("normal", "visited")
        if forced:
            session.send("CSS.forcePseudoState", {"nodeId": node_id,
                                                  "forcedPseudoClasses": [state]})
        result = element.evaluate(CONTRAST_SCRIPT)
        if forced:
            session.send("CSS.forcePseudoState", {"nodeId": node_id, "forcedPseudoClasses": []})
        if result["ratio"] < MIN_CONTRAST:
            found.append(f"{state}: {_describe(element)} {result['colour']} on "
                         f"{result['background']} = {result['ratio']:.2f}:1")
    session.detach()
    return found


def _load(page, url: str) -> None:
    page.goto(url)
    page.evaluate("html => document.querySelector('main .container')"
                  ".insertAdjacentHTML('beforeend', html)", SAMPLES)


def _visited_as_class(page, live_server: str) -> None:
    """Browsers never let a script read :visited styles: apply them as a class instead."""
    hrefs = page.eval_on_selector_all("link[rel=stylesheet]", "ls => ls.map(l => l.href)")
    for href in hrefs:
        with urllib.request.urlopen(href, timeout=10) as response:
            css = response.read().decode()
        page.add_style_tag(content=css.replace(":visited", ".as-visited"))
    page.evaluate("document.querySelectorAll('a').forEach(a => a.classList.add('as-visited'))")


@pytest.mark.parametrize("path", PAGES)
def test_links_and_buttons_keep_their_contrast_in_every_state(live_server, csp_free_page, path):
    page = csp_free_page
    _load(page, live_server + path)
    problems = []
    for state in ("normal", "hover", "focus", "active"):
        problems += _problems(page, state)
    _visited_as_class(page, live_server)
    problems += _problems(page, "visited")
    assert not problems, "\n".join(problems)


def test_the_contrast_test_catches_a_bad_hover(live_server, csp_free_page):
    """Test of the test: the old secondary-button hover (#123e6b on #0d2f52, 1.25:1) fails."""
    page = csp_free_page
    _load(page, live_server + "/")
    page.add_style_tag(content=".button-secondary:hover { background: #0d2f52; color: #123e6b; }")
    problems = _problems(page, "hover")
    assert any("button-secondary" in problem and "1.25:1" in problem for problem in problems)
