from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.errors import SkipFile
from assistant.ingest.loaders import decode_bytes, find_files, load_text
from assistant.ingest.web_pages import html_to_text

ARABIC = "عادت الاشتباكات فجر الاثنين إلى محيط سجن الصناعة في حي غويران."


def test_cp1256_arabic_is_decoded_not_mojibake():
    assert decode_bytes(ARABIC.encode("cp1256")) == ARABIC


def test_utf16_with_and_without_bom():
    assert decode_bytes(ARABIC.encode("utf-16")) == ARABIC
    assert decode_bytes(ARABIC.encode("utf-16-le")) == ARABIC


def test_utf8_bom_is_dropped():
    assert decode_bytes(b"\xef\xbb\xbf" + ARABIC.encode()) == ARABIC


def test_binary_is_refused_with_a_reason():
    with pytest.raises(SkipFile, match="binary"):
        decode_bytes(bytes(range(256)) * 20)


def test_empty_file_is_skipped(tmp_path: Path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(SkipFile, match="empty"):
        load_text(empty, 10_000_000)


def test_size_limit(tmp_path: Path):
    big = tmp_path / "big.txt"
    big.write_text("x" * 2_000_001)
    with pytest.raises(SkipFile, match="limit"):
        load_text(big, 1_000_000)


def test_html_drops_scripts_and_keeps_blocks():
    title, text = html_to_text(
        "<html><head><title>عنوان</title><script>alert(1)</script></head>"
        "<body><nav>menu</nav><p>فقرة أولى</p><p>فقرة <b>ثانية</b></p><style>p{}</style></body></html>"
    )
    assert title == "عنوان"
    assert text.splitlines() == ["عنوان", "فقرة أولى", "فقرة ثانية"]
    assert "alert" not in text and "menu" not in text


def test_unreadable_pdf_is_skipped(tmp_path: Path):
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n% truncated")
    with pytest.raises(SkipFile, match="PDF|no text"):
        load_text(broken, 10_000_000)


def test_find_files_skips_unsupported_and_outside_symlinks(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("نص")
    (corpus / "b.xlsx").write_bytes(b"PK")
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    os.symlink(outside, corpus / "link.txt")
    found, skipped = find_files([corpus], corpus)
    assert [c.source for c in found] == ["a.txt"]
    reasons = dict(skipped)
    assert "unsupported" in reasons[str(corpus / "b.xlsx")]
    assert "outside" in reasons[str(corpus / "link.txt")]


def test_missing_path_is_reported(tmp_path: Path):
    found, skipped = find_files([tmp_path / "nope"], tmp_path)
    assert not found and "no such file" in skipped[0][1]
