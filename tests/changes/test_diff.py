"""Word-level and unified diffs of SKILL.md texts, and their plain rendering."""

from __future__ import annotations

from rich.console import Console

from routelens.changes.diff import WordChange, diff_skill_texts, render_words, word_diff
from tests.changes.history import DEPLOY_V1, DEPLOY_V2, REVIEW_V1, REVIEW_V2


def plain(text: object) -> str:
    """What a non-terminal console prints."""
    console = Console(no_color=True, width=200, file=None, record=True, force_terminal=False)
    with console.capture() as captured:
        console.print(text, end="")
    return captured.get()


def test_word_diff_keeps_shared_words_and_marks_the_rest() -> None:
    changes = word_diff("Deploy apps to staging.", "Deploy web apps to production.")
    assert [c for c in changes if c.op != "equal"] == [
        WordChange("insert", " web"),
        WordChange("delete", "staging"),
        WordChange("insert", "production"),
    ]
    rebuilt_old = "".join(c.text for c in changes if c.op != "insert")
    rebuilt_new = "".join(c.text for c in changes if c.op != "delete")
    assert (rebuilt_old, rebuilt_new) == (
        "Deploy apps to staging.",
        "Deploy web apps to production.",
    )


def test_plain_rendering_uses_word_diff_markers() -> None:
    text = render_words(word_diff("to staging.", "to production."), color=False)
    assert plain(text) == "to [-staging-]{+production+}."


def test_coloured_rendering_has_no_markers_but_styles() -> None:
    text = render_words(word_diff("a b", "a c"), color=True)
    assert text.plain == "a bc"
    assert {str(span.style) for span in text.spans} == {"strike red", "bold green"}


def test_a_description_edit_changes_the_front_matter_only() -> None:
    front, body = diff_skill_texts(DEPLOY_V1, DEPLOY_V2, "old", "new")
    assert (front.part, front.changed, body.changed) == ("front matter", True, False)
    assert '-description: "Deploy apps to staging."' in front.unified
    assert '+description: "Deploy apps to staging or production."' in front.unified
    assert body.unified == []


def test_a_body_edit_changes_the_body_only() -> None:
    front, body = diff_skill_texts(REVIEW_V1, REVIEW_V2, "old", "new")
    assert not front.changed
    assert "+Run the tests." in body.unified
