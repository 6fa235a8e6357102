# ruff: noqa: RUF001 - sentences in Cyrillic and other scripts
"""Language identification for the 12 languages Vigil serves."""

from __future__ import annotations

import pytest

from vigil.detect.text.language import SUPPORTED, detect_language

SAMPLES = {
    "en": "Could you send me the photos from the weekend?",
    "fr": "Tu peux m'envoyer les photos du week-end ?",
    "id": "Bisakah kamu kirimkan foto akhir pekan nanti?",
    "ru": "Пришли мне, пожалуйста, фотографии с выходных.",
    "es": "¿Me puedes mandar las fotos del fin de semana?",
    "de": "Kannst du mir die Fotos vom Wochenende schicken?",
    "ar": "هل يمكنك أن ترسل لي صور عطلة نهاية الأسبوع؟",
    "pt": "Você pode me mandar as fotos do fim de semana?",
    "fa": "می‌توانی عکس‌های آخر هفته را برایم بفرستی؟",
    "tr": "Hafta sonu fotoğraflarını bana gönderebilir misin?",
    "uk": "Надішли мені, будь ласка, фотографії з вихідних.",
    "hi": "क्या तुम मुझे सप्ताहांत की तस्वीरें भेज सकते हो?",
}


@pytest.mark.parametrize(("language", "text"), SAMPLES.items(), ids=SAMPLES.keys())
def test_each_supported_language_is_identified(language: str, text: str) -> None:
    assert detect_language(text) == language


def test_every_supported_language_has_a_sample() -> None:
    assert set(SAMPLES) == SUPPORTED


@pytest.mark.parametrize("text", ["terima kasih banyak ya", "saya mau pulang sekarang"])
def test_short_indonesian_is_not_taken_for_malay(text: str) -> None:
    assert detect_language(text) == "id"


@pytest.mark.parametrize("text", ["", "ok", "👍👍", "12345 !!!", "\ud800\udfff"])
def test_too_little_text_is_unknown(text: str) -> None:
    assert detect_language(text) == ""


def test_a_hint_from_the_platform_wins() -> None:
    assert detect_language("see you tomorrow", hint="ID") == "id"
    assert detect_language("see you tomorrow", hint="not-a-code") == "en"


def test_line_breaks_and_runs_of_spaces_do_not_change_the_answer() -> None:
    text = SAMPLES["de"]
    assert detect_language(text.replace(" ", "\n")) == "de"
    assert detect_language("\r\n\t  " + text.replace(" ", " \u2028\t ") + "\n\n") == "de"


def test_a_lone_surrogate_inside_real_text_is_tolerated() -> None:
    assert detect_language("Пришли мне, пожалуйста,\ud800 фотографии с выходных.") == "ru"
