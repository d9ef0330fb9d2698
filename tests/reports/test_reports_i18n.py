"""Catalogues translate every message the reports show; numbers, dates and digits follow the locale."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from pipelines.reports.i18n import LOCALES_DIR, Formatter, translations

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def extracted_messages() -> set[str]:
    from babel.messages.extract import extract_from_dir

    package = Path(LOCALES_DIR).parent
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "True",
                                        "lstrip_blocks": "True"}}
    keywords = {"_": None, "gettext": None, "N_": None}
    return {message for _, _, message, _, _ in extract_from_dir(str(package), method_map, options,
                                                                keywords) if isinstance(message, str)}


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_catalogue_translates_every_message_with_the_same_placeholders(language):
    messages = extracted_messages()
    assert len(messages) > 60
    catalogue = translations(language)
    for message in messages:
        translated = catalogue.gettext(message)
        assert translated != message or message in {"Page", "Total", "Volume", "mm", "m³", "ha", "t/ha",
                                                    "qx/ha"}, f"{language}: untranslated {message!r}"
        assert sorted(PLACEHOLDER.findall(translated)) == sorted(PLACEHOLDER.findall(message)), message


def test_numbers_per_locale():
    assert Formatter("fr").number(1234.56, 1) == "1\u202f234,6"
    assert Formatter("en").number(1234.56, 1) == "1,234.6"
    assert Formatter("ar").number(0.59, 2) == "0,59", "Morocco writes Arabic with Western digits and a decimal comma"
    assert Formatter("ar", "arabic-indic").number(1234.5, 1) == "١٬٢٣٤٫٥"
    assert Formatter("fr").percent(0.14) == "14\xa0%"
    assert Formatter("ar", "arabic-indic").percent(0.14) == "١٤٪"


def test_dates_per_locale():
    day = dt.date(2026, 3, 14)
    assert Formatter("fr").date(day) == "14 mars 2026"
    assert Formatter("en").date(day) == "14 March 2026"
    assert Formatter("ar", "arabic-indic").date(day) == "١٤ مارس ٢٠٢٦"
    assert Formatter("fr").weekday(day) == "sam. 14"


def test_translated_literal_digits_follow_the_digit_option():
    message = ("Net irrigation to apply on each parcel, in millimetres of water (1 mm = 10 m³ per hectare). "
               "An empty cell means no irrigation that day.")
    assert "(١ ملم = ١٠ م³" in Formatter("ar", "arabic-indic").gettext(message)
    assert "(1 ملم = 10 م³" in Formatter("ar").gettext(message)


def test_unknown_language_or_digits_names_the_choices():
    with pytest.raises(ValueError, match=r"'de'.*\['ar', 'en', 'fr'\]"):
        Formatter("de")
    with pytest.raises(ValueError, match="arabic-indic"):
        Formatter("ar", "persian")
