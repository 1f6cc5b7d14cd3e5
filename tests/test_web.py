"""Cleaning scraped pages and deciding which belong: against the bundled collection and small cases."""

from __future__ import annotations

from ingest.bundled import parse_collection
from ingest.web import clean_sections, judge


def test_bundled_exclusions_with_reasons() -> None:
    parsed = parse_collection()
    reasons = {e.title: e.reason for e in parsed.exclusions}
    assert reasons["U.S. Customs and Border Protection: January 2024 monthly update"].startswith("not about the UK: CBP")
    assert reasons["Montana Free Press: child protection case dismissed"].startswith("not about the UK: Montana")
    assert reasons["New York Times: Alabama rules frozen embryos are children"].startswith("not about the UK: Alabama")
    assert reasons["Web search results for 'child protection cases wales'"].startswith("a list of search results")
    assert reasons["StatsWales: dataset description"].startswith("only ")
    kept = {d.title for d in parsed.documents if d.kind != "case_review"}
    assert "Social Care Wales: All Wales Practice Guide, safeguarding children from neglect" in kept
    assert "Public Services Ombudsman for Wales: child protection factsheet" in kept
    assert "Infants: learning from case reviews" in kept


def test_kept_pages_carry_no_boilerplate() -> None:
    parsed = parse_collection()
    text = "\n".join(d.source_text[s.start : s.end] for d in parsed.documents for s in d.sections)
    for junk in (
        "Skip to main content",
        "Sign in with a password",
        "v-html",
        "01248 725 888",
        "Privacy Policy",
        "child protection cases wales",
        "Subscribe to our monthly email",
        "Customs and Border",
        "Montana",
    ):
        assert junk not in text


def test_briefing_heading_paths_and_whole_lists() -> None:
    briefing = next(d for d in parse_collection().documents if d.title == "Infants: learning from case reviews")
    paths = {" › ".join(s.heading_path) for s in briefing.sections}
    assert "Infants: learning from case reviews › Learning for improving practice › Unsafe sleeping" in paths
    assert "Infants: learning from case reviews › Key issues › Unsafe sleeping" in paths
    assert not any("References" in p for p in paths)
    unsafe = next(
        s
        for s in briefing.sections
        if s.heading_path[-1] == "Unsafe sleeping"
        and "Key issues" in s.heading_path
        and "Factors increasing" in briefing.source_text[s.start : s.end]
    )
    body = briefing.source_text[unsafe.start : unsafe.end]
    assert body.startswith("Factors increasing the risk to an infant include:")
    assert body.endswith("- parental mental health issues.")


def test_clean_sections_removes_navigation_phone_lists_and_cookie_lines() -> None:
    text = (
        "Skip to main content\n\n• Home\n• About\n• Contact\n\n## Neglect guidance\n\n"
        "Practitioners should act on signs of neglect early and share information with partners.\n\n"
        "Anglesey 01248 725 888 01248 353 551 (out of hours)\n\nWe use cookies to improve this site.\n\n"
        "Children who are neglected are unlikely to ask for help.\n"
    )
    cleaned = clean_sections(text, 0, len(text), "Guide")
    body = cleaned.kept_text
    assert "Practitioners should act" in body and "unlikely to ask" in body
    assert "Home" not in body and "01248" not in body and "cookies" not in body
    assert cleaned.sections[0].heading_path == ("Guide", "Neglect guidance")
    for s in cleaned.sections:
        assert "01248" not in text[s.start : s.end]


def test_judge_explains_itself() -> None:
    assert not judge("Too short.").include
    uk = "Safeguarding children in Wales: the local authority must act when a child is at risk of abuse or neglect. " * 5
    assert judge(uk).include
    us = "The U.S. Border Patrol in Washington reported encounters; Montana courts and the federal government. " * 5
    verdict = judge(us)
    assert not verdict.include and verdict.reason.startswith("not about the UK")
