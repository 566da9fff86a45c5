"""Descriptions cut into sentences and TRIGGERS: / NOT FOR: items, and put back without one."""

from __future__ import annotations

from routelens.optimize.parts import PartKind, description_parts, without_part

LISTED = (
    "Work with boards, e.g. sprints and epics. Use it for planning! "
    "TRIGGERS: sprint, board; backlog. NOT FOR: JQL search."
)


def test_sentences_end_at_stops_but_not_at_abbreviations() -> None:
    parts = description_parts("Find issues with JQL, e.g. open bugs. Use it for filters? Yes.")
    assert [p.text for p in parts] == [
        "Find issues with JQL, e.g. open bugs.",
        "Use it for filters?",
        "Yes.",
    ]
    assert {p.kind for p in parts} == {PartKind.SENTENCE}


def test_a_last_sentence_without_a_full_stop_is_a_part() -> None:
    parts = description_parts("Log work. Use when the user mentions hours")
    assert [p.text for p in parts] == ["Log work.", "Use when the user mentions hours"]


def test_trigger_and_not_for_lists_are_cut_into_items() -> None:
    parts = description_parts(LISTED)
    assert [(p.kind, p.text) for p in parts] == [
        (PartKind.SENTENCE, "Work with boards, e.g. sprints and epics."),
        (PartKind.SENTENCE, "Use it for planning!"),
        (PartKind.TRIGGER, "sprint"),
        (PartKind.TRIGGER, "board"),
        (PartKind.TRIGGER, "backlog"),
        (PartKind.NOT_FOR, "JQL search"),
    ]
    assert [p.index for p in parts] == list(range(6))
    for part in parts:
        assert LISTED[part.start : part.end] == part.text


def test_removing_a_sentence_keeps_every_other_word() -> None:
    first = description_parts(LISTED)[0]
    assert without_part(LISTED, first) == (
        "Use it for planning! TRIGGERS: sprint, board; backlog. NOT FOR: JQL search."
    )


def test_removing_a_list_item_tidies_the_separators() -> None:
    parts = description_parts(LISTED)
    assert without_part(LISTED, parts[2]).endswith("TRIGGERS: board; backlog. NOT FOR: JQL search.")
    assert without_part(LISTED, parts[3]).endswith(
        "TRIGGERS: sprint, backlog. NOT FOR: JQL search."
    )
    assert without_part(LISTED, parts[4]).endswith("TRIGGERS: sprint, board. NOT FOR: JQL search.")


def test_removing_the_only_item_of_a_list_removes_its_header() -> None:
    last = description_parts(LISTED)[-1]
    assert without_part(LISTED, last) == (
        "Work with boards, e.g. sprints and epics. Use it for planning! "
        "TRIGGERS: sprint, board; backlog."
    )


def test_a_description_of_one_sentence_is_one_part() -> None:
    [part] = description_parts("Create a single Jira issue")
    assert without_part("Create a single Jira issue", part) == ""
