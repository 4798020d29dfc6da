"""The console's catalogs: every string of the templates and routes is in them, every one has a Chinese
translation, the language is picked from the cookie or Accept-Language, and each locale renders with
its own environment (nothing installed per request)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from api.console import i18n

ROOT = Path(__file__).resolve().parents[3]


def catalog(locale: str):
    with open(i18n.LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=locale)


def extracted(tmp_path) -> set:
    out = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_", "-k",
         "gettext", "-k", "ngettext:1,2", "-k", "N_", "-o", str(out), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with open(out, "rb") as f:
        return {m.id for m in read_po(f) if m.id}


def test_the_catalogs_hold_every_string_and_chinese_translates_them_all(tmp_path):
    wanted = extracted(tmp_path)
    assert len(wanted) > 100
    for locale in i18n.LOCALES:
        ids = {m.id for m in catalog(locale) if m.id}
        assert wanted <= ids, f"{locale} lacks {sorted(map(str, wanted - ids))[:10]}: run the catalog update"
    untranslated = [
        m.id for m in catalog("zh_CN")
        if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))
    ]
    assert untranslated == []


def test_placeholders_survive_translation():
    import re

    for m in catalog("zh_CN"):
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        wanted = set(re.findall(r"%\(\w+\)[sd]", ids[-1]))
        for s in strings:
            assert set(re.findall(r"%\(\w+\)[sd]", s)) == wanted, (m.id, s)


@pytest.mark.parametrize(
    "cookie, header, expected",
    [
        (None, None, "en"),
        (None, "zh-CN,zh;q=0.9", "zh_CN"),
        (None, "zh-TW", "zh_CN"),
        (None, "fr-FR,zh;q=0.8,en;q=0.5", "zh_CN"),
        (None, "fr-FR,en;q=0.8,zh;q=0.5", "en"),
        (None, "en;q=0.1, zh-Hans;q=0.9", "zh_CN"),
        (None, "zh;q=0, en", "en"),
        (None, "de, fr;q=bad", "en"),
        ("zh_CN", "en-US", "zh_CN"),
        ("en", "zh-CN", "en"),
        ("xx", "zh-CN", "zh_CN"),
    ],
)
def test_pick_locale(cookie, header, expected):
    assert i18n.pick_locale(cookie, header) == expected


def test_one_environment_per_locale_rendering_concurrently_never_mixes_languages():
    template = "{{ _('Today') }}|{{ ngettext('%(num)d day', '%(num)d days', n) }}"
    results: dict[str, set[str]] = {"en": set(), "zh_CN": set()}

    def render(locale: str) -> None:
        env = i18n.environment(locale)
        for n in range(200):
            results[locale].add(env.from_string(template).render(n=2 + n % 2))

    threads = [threading.Thread(target=render, args=(loc,)) for loc in ("en", "zh_CN") * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results["en"] == {"Today|2 days", "Today|3 days"}
    assert results["zh_CN"] == {"今日|2 天", "今日|3 天"}
    assert i18n.environment("en") is i18n.environment("en")
    assert i18n.environment("en") is not i18n.environment("zh_CN")


def test_no_compiled_catalog_is_kept_in_the_repository():
    assert not list(i18n.LOCALE_DIR.rglob("*.mo"))
