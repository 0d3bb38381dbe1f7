from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from helpline.core.html import sanitize_html


def test_scripts_handlers_and_js_urls_are_removed():
    dirty = (
        '<p style="x" onclick="steal()">Hi <a href="javascript:alert(1)">x</a>'
        '<a href="https://ok.example">ok</a><script>alert(1)</script>'
        '<img src="x" onerror="alert(1)"><iframe src="https://evil"></iframe></p>'
    )
    clean = sanitize_html(dirty)
    assert "script" not in clean
    assert "onclick" not in clean
    assert "onerror" not in clean
    assert "javascript:" not in clean
    assert "iframe" not in clean
    assert 'href="https://ok.example"' in clean
    assert 'rel="noopener noreferrer nofollow"' in clean


@given(st.text())
def test_sanitised_output_never_contains_a_script_tag(text):
    clean = sanitize_html(f"<div>{text}<script>x</script></div>")
    assert "<script" not in clean.lower()
