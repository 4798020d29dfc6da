"""The console's languages: gettext catalogs compiled from the ``.po`` files at import, one Jinja
environment per locale.

* The catalogs are ``locale/<ll>/LC_MESSAGES/messages.po`` beside this module (no compiled ``.mo`` in the
  repository): :func:`load_translations` compiles each in memory (babel ``read_po`` -> ``write_mo`` ->
  :class:`gettext.GNUTranslations`).
* Each locale has its own :class:`jinja2.Environment` with that locale's translations installed once, so
  concurrent requests in different languages never share a mutable environment.
* :func:`pick_locale`: the ``rota_lang`` cookie (set by the language switch) wins, else the browser's
  ``Accept-Language``, else English.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.console import texts

HERE = Path(__file__).resolve().parent
LOCALE_DIR = HERE / "locale"
TEMPLATES = HERE / "templates"
LOCALES = ("en", "zh_CN")
DEFAULT_LOCALE = "en"
LANG_COOKIE = "rota_lang"
#: What each locale is called in the language switch (in its own language).
LANGUAGE_NAMES = {"en": "English", "zh_CN": "中文"}


def load_translations(locale: str) -> gettext.GNUTranslations:
    """The locale's catalog, compiled from its .po file in memory."""
    with open(LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def _accept_language(header: str | None) -> list[str]:
    """Language tags of an Accept-Language header, most wanted first."""
    tags: list[tuple[float, int, str]] = []
    for index, part in enumerate((header or "").split(",")):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        if q > 0:
            tags.append((-q, index, tag.strip().lower()))
    return [tag for _, _, tag in sorted(tags)]


def pick_locale(cookie: str | None, accept_language: str | None) -> str:
    if cookie in LOCALES:
        return cookie
    for tag in _accept_language(accept_language):
        if tag.startswith("zh"):
            return "zh_CN"
        if tag.startswith("en") or tag == "*":
            return "en"
    return DEFAULT_LOCALE


class Formats:
    """Dates, times and numbers in one locale (babel), for the templates."""

    def __init__(self, locale: str):
        self.locale = Locale.parse(locale)

    def date(self, value: dt.date, format: str = "medium") -> str:
        return format_date(value, format=format, locale=self.locale)

    def day(self, value: dt.date) -> str:
        """A short day heading: weekday and day of month ('Mon 11 Jan', '1月11日周一')."""
        return format_date(value, format="EEE d MMM" if self.locale.language != "zh" else "M月d日EEE",
                           locale=self.locale)

    def weekday(self, value: dt.date) -> str:
        return format_date(value, format="EEE", locale=self.locale)

    def time(self, value: dt.datetime | dt.time) -> str:
        return format_time(value, format="HH:mm", locale=self.locale)

    def datetime(self, value: dt.datetime) -> str:
        pattern = "EEE d MMM HH:mm" if self.locale.language != "zh" else "M月d日EEE HH:mm"
        return format_datetime(value, format=pattern, tzinfo=value.tzinfo, locale=self.locale)

    def number(self, value: float, digits: int = 1) -> str:
        return format_decimal(round(value, digits), locale=self.locale)


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _weekday_date(weekday: str) -> dt.date:
    """A date falling on ``weekday`` ('mon'...), to show the weekday's name in the locale."""
    return dt.date(2024, 1, 1) + dt.timedelta(days=_WEEKDAYS.index(weekday))


@cache
def environment(locale: str) -> Environment:
    """The Jinja environment of one locale (built once; never changed afterwards)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    translations = load_translations(locale)
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    env.filters["known"] = lambda text: texts.known(text, translations.gettext)
    env.globals.update(
        locale=locale,
        lang=locale.replace("_", "-"),
        fmt=Formats(locale),
        language_names=LANGUAGE_NAMES,
        monday_of=_weekday_date,
    )
    return env


def translator(locale: str) -> gettext.GNUTranslations:
    """For messages made in Python (form errors): the locale's gettext."""
    return _translations(locale)


@cache
def _translations(locale: str) -> gettext.GNUTranslations:
    return load_translations(locale)
