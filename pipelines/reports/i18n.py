"""Report languages: gettext catalogues, and numbers and dates formatted per locale with Babel.

Strings are written in English in the code and templates (the gettext source language) and
translated by `locales/<lang>/LC_MESSAGES/saqi.po` for French (the default) and Arabic. Only the
`.po` files are committed: they are compiled to `.mo` in memory at first use with Babel's
`read_po`/`write_mo`, so a catalogue edit takes effect without a build step.

Arabic reports are right-to-left; their digits are Western (0-9, the usage in Morocco) or
Arabic-Indic (٠-٩), chosen per report.
"""
from __future__ import annotations

import datetime as dt
import gettext
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "saqi"
DEFAULT_LANGUAGE = "fr"
LOCALES = {"fr": "fr_MA", "ar": "ar_MA", "en": "en_GB"}
RIGHT_TO_LEFT = frozenset({"ar"})
DIGITS = {"western": "latn", "arabic-indic": "arab"}
_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def N_(message: str) -> str:
    """Mark a string for translation where it is defined; it is translated where it is shown."""
    return message


def catalogue_path(language: str) -> Path:
    """The committed gettext `.po` catalogue of a language."""
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def _check_language(language: str) -> None:
    if language not in LOCALES:
        raise ValueError(f"report language '{language}' is not available; use one of {sorted(LOCALES)}")


@lru_cache(maxsize=8)
def translations(language: str) -> gettext.NullTranslations:
    """The gettext translations of a language, compiled from its committed `.po` catalogue."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    _check_language(language)
    if language == "en":
        return gettext.NullTranslations()
    path = catalogue_path(language)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: message catalogue missing; restore it from git (pipelines/reports/locales)")
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=LOCALES[language], domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@dataclass(frozen=True)
class Formatter:
    """Formats numbers and dates of one report: `language` fr/ar/en, `digits` western/arabic-indic."""

    language: str = DEFAULT_LANGUAGE
    digits: str = "western"

    def __post_init__(self) -> None:
        _check_language(self.language)
        if self.digits not in DIGITS:
            raise ValueError(f"digits '{self.digits}' is not available; use one of {sorted(DIGITS)}")

    @property
    def locale(self) -> str:
        """The CLDR locale of the report language (fr_MA, ar_MA, en_GB)."""
        return LOCALES[self.language]

    @property
    def direction(self) -> str:
        """Text direction of the report language: "rtl" or "ltr"."""
        return "rtl" if self.language in RIGHT_TO_LEFT else "ltr"

    @property
    def _numbering(self) -> str:
        """CLDR numbering system: Babel takes the separators from it (٫ ٬ ٪), `digits_of` the digits."""
        return DIGITS[self.digits]

    def gettext(self, message: str) -> str:
        """The translated message, its literal digits in the chosen digit set (placeholders untouched)."""
        return self.digits_of(translations(self.language).gettext(message))

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        """The translated singular or plural message for `count`, digits in the chosen set."""
        return self.digits_of(translations(self.language).ngettext(singular, plural, count))

    def number(self, value: float, decimals: int = 1) -> str:
        """A decimal number with the locale's separators, rounded to `decimals` places."""
        from babel.numbers import format_decimal

        pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
        return self.digits_of(format_decimal(value, pattern, locale=self.locale, numbering_system=self._numbering))

    def percent(self, fraction: float, decimals: int = 0) -> str:
        """A 0–1 fraction as a percentage in the locale's style (e.g. fr `12 %`, en `12%`)."""
        from babel.numbers import format_percent

        pattern = None if decimals == 0 else "#,##0." + "0" * decimals + "%"
        text = format_percent(fraction, pattern, locale=self.locale, numbering_system=self._numbering)
        return self.digits_of(text).replace("%", "٪") if self.digits == "arabic-indic" else text

    def digits_of(self, text: str) -> str:
        """Western digits of an already formatted text in the chosen digit set."""
        return text.translate(_ARABIC_INDIC) if self.digits == "arabic-indic" else text

    def date(self, day: dt.date, style: str = "long") -> str:
        """A calendar date (`long`: 14 mars 2026; `medium`; `short`; or a CLDR pattern)."""
        from babel.dates import format_date

        return self.digits_of(format_date(day, style, locale=self.locale))

    def weekday(self, day: dt.date) -> str:
        """Abbreviated weekday and day of month, e.g. fr `sam. 14`."""
        return self.date(day, "EEE d")
