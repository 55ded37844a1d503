"""A person in front of the web app: a browser context in one language, signed in with a token,
and the checks a keyboard or screen-reader user relies on (every control labelled and reachable
with Tab)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page

# the few labels the tests click or read, in each language (web/src/i18n)
LABELS = {
    "fr": {"token": "Jeton d'accès", "sign_in": "Se connecter"},
    "en": {"token": "API token", "sign_in": "Sign in"},
}

# every page of the app (path, name); the fleet's tabs are the admin's only
PAGES = [
    ("/", "overview"),
    ("/stations/{station}", "station"),
    ("/plays", "plays"),
    ("/reports?tab=playlist", "reports-playlist"),
    ("/reports?tab=airtime", "reports-airtime"),
    ("/reports?tab=activity", "reports-activity"),
    ("/reports?tab=files", "reports-files"),
    ("/catalog", "catalog"),
    ("/catalog/{recording}", "recording"),
    ("/unknowns", "unknowns"),
    ("/fleet?tab=stations", "fleet-stations"),
    ("/fleet?tab=agents", "fleet-agents"),
    ("/fleet?tab=users", "fleet-users"),
]


def context(browser: Browser, base_url: str, lang: str, downloads: bool = False) -> BrowserContext:
    ctx = browser.new_context(
        base_url=base_url,
        viewport={"width": 1366, "height": 860},
        locale=f"{lang}-SN",
        accept_downloads=downloads,
    )
    ctx.add_init_script(f"localStorage.setItem('sodav.lang', '{lang}')")
    ctx.set_default_timeout(30_000)  # a shared, loaded machine: generous, never a measure
    return ctx


def sign_in(page: Page, token: str, lang: str) -> None:
    """Sign in as a person does: paste the token on the sign-in page."""
    page.goto("/")
    page.get_by_label(LABELS[lang]["token"]).fill(token)
    page.get_by_role("button", name=LABELS[lang]["sign_in"]).click()
    page.get_by_role("navigation").first.wait_for()


def shot(page: Page, out: Path, name: str) -> Path:
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # fonts, a chart's first frame
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# Interactive elements with no accessible name, or that Tab cannot reach.
_UNLABELLED = """() => {
  const sel = 'a[href], button, input:not([type=hidden]), select, textarea, '
    + '[role=button], [role=tab], [role=link], [role=checkbox], [role=combobox]';
  const named = (el) => {
    if (el.getAttribute('aria-label')?.trim()) return true;
    const by = el.getAttribute('aria-labelledby');
    const ids = (by || '').split(/\\s+/).filter(Boolean);
    if (ids.some((id) => document.getElementById(id)?.textContent?.trim())) return true;
    if (el.labels && [...el.labels].some((l) => l.textContent.trim())) return true;
    if (el.getAttribute('title')?.trim()) return true;
    if (['INPUT', 'SELECT', 'TEXTAREA'].includes(el.tagName)) return false;
    if ((el.textContent || '').trim() !== '') return true;
    return !!el.querySelector('img[alt]:not([alt=""]), svg[aria-label]');
  };
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length)
    && getComputedStyle(el).visibility !== 'hidden';
  // arrow keys, not Tab, move within a radio group or a tab list: one of them is in the Tab order
  const roving = (el) => (el.type === 'radio' && !el.checked)
    || (el.getAttribute('role') === 'tab' && el.getAttribute('aria-selected') !== 'true');
  return [...document.querySelectorAll(sel)]
    .filter((el) => visible(el) && !el.disabled && !el.closest('[aria-hidden=true], [inert]'))
    .filter((el) => !named(el) || (el.tabIndex < 0 && !roving(el)))
    .map((el) => (named(el) ? 'not focusable: ' : 'no accessible name: ') + el.outerHTML.slice(0, 160));
}"""

_CONTROLS = """() => {
  const sel = 'a[href], button, input:not([type=hidden]), select, textarea, [role=button], '
    + '[tabindex]:not([tabindex="-1"])';
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length)
    && getComputedStyle(el).visibility !== 'hidden';
  const roving = (el) => (el.type === 'radio' && !el.checked)
    || (el.getAttribute('role') === 'tab' && el.getAttribute('aria-selected') !== 'true');
  const all = [...document.querySelectorAll(sel)]
    .filter((el) => visible(el) && !el.disabled && el.tabIndex >= 0 && !roving(el)
      && !el.closest('[aria-hidden=true], [inert]'));
  all.forEach((el, i) => el.setAttribute('data-a11y-i', String(i)));
  return all.length;
}"""


def accessibility_problems(page: Page, max_tabs: int = 400) -> list[str]:
    """Controls without an accessible name, and controls Tab never reaches from the top."""
    problems: list[str] = list(page.evaluate(_UNLABELLED))
    count: int = page.evaluate(_CONTROLS)
    reached: set[str] = set()
    page.evaluate("() => { document.activeElement?.blur(); window.scrollTo(0, 0); }")
    page.locator("body").focus()
    for _ in range(min(max_tabs, count * 2 + 10)):
        page.keyboard.press("Tab")
        idx: Any = page.evaluate("() => document.activeElement?.getAttribute('data-a11y-i')")
        if idx is not None:
            reached.add(str(idx))
        if len(reached) == count:
            break
    if len(reached) < count:
        missing: list[str] = page.evaluate(
            "(reached) => [...document.querySelectorAll('[data-a11y-i]')]"
            ".filter((el) => !reached.includes(el.getAttribute('data-a11y-i')))"
            ".map((el) => 'not reached by Tab: ' + el.outerHTML.slice(0, 160))",
            sorted(reached),
        )
        problems += missing
    return problems
