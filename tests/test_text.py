from __future__ import annotations

from assistant.text.normalize import (
    detect_language,
    normalize_arabic,
    numbers_in,
    split_clauses,
    split_paragraphs,
    split_sentences,
    stem_arabic,
    strip_invisible,
    tokenize,
    weekdays_in,
)


def test_normalize_unifies_alef_taa_marbuta_and_yaa():
    assert normalize_arabic("أإآ مدرسة مستشفى") == "ااا مدرسه مستشفي"


def test_normalize_strips_diacritics_tatweel_and_maps_digits():
    assert normalize_arabic("يدُلّ عـــلى ١٣٦ و۴۵") == "يدل علي 136 و45"


def test_stemming_strips_clitic_prefixes_but_keeps_short_words():
    assert stem_arabic("والسجن") == "سجن"
    assert stem_arabic("بالحسكه") == "حسكه"
    assert stem_arabic("وقد") == "وقد"  # too short to strip


def test_tokenize_drops_stopwords_in_both_languages():
    assert tokenize("كم عدد القتلى في السجن؟") == ["عدد", "قتلي", "سجن"]
    assert tokenize("How many civilians were killed?") == ["civilian", "kill"]


def test_sentences_split_on_arabic_punctuation_and_keep_offsets():
    text = "قال المصدر. هل انتهى؟ نعم؛ ثم\nسطر جديد! The end."
    spans = split_sentences(text)
    assert [s.text for s in spans] == ["قال المصدر.", "هل انتهى؟", "نعم؛", "ثم", "سطر جديد!", "The end."]
    assert all(text[s.start:s.end] == s.text for s in spans)


def test_decimal_point_is_not_a_sentence_end():
    assert [s.text for s in split_sentences("بلغ 3.5 مليون. انتهى")] == ["بلغ 3.5 مليون.", "انتهى"]


def test_clauses_split_on_arabic_comma():
    text = "الأول، الثاني، الثالث"
    assert [c.text for c in split_clauses(text)] == ["الأول،", "الثاني،", "الثالث"]


def test_paragraphs_are_lines_with_offsets():
    text = "عنوان\n\n  فقرة أولى  \nفقرة ثانية\n"
    spans = split_paragraphs(text)
    assert [p.text for p in spans] == ["عنوان", "فقرة أولى", "فقرة ثانية"]
    assert all(text[p.start:p.end] == p.text for p in spans)


def test_language_detection():
    assert detect_language("كم عدد القتلى؟") == "ar"
    assert detect_language("How many were killed?") == "en"
    assert detect_language("What does قسد mean?") == "en"


def test_numbers_include_arabic_number_words():
    assert numbers_in("قتل 45 و٨٤ وسبعة مدنيين") == ["45", "84", "7"]


def test_weekdays():
    assert weekdays_in("فجر الاثنين وأمس الأحد") == ["Monday", "Sunday"]


def test_strip_invisible_removes_bidi_overrides():
    assert strip_invisible("a\u202eb\u200fc") == "abc"
