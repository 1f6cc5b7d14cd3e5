"""The practitioner chat: a Gradio Blocks app over ``Casebook``. Layout and wiring only.

Consumes a ``Casebook``; every answer, filter check, follow-up rewrite and rendering happens in the
layers below (casebook.py, followup.py, render.py, feedback.py). Errors Casebook expects become a
message in the chat; nothing here raises to the page.
"""

from __future__ import annotations

import hashlib
import html
import time
from collections.abc import Iterator
from typing import Any

from vectorstore.embedder import offline

offline()  # before gradio is imported: its analytics read the environment at import time

import gradio as gr

from assistant.casebook import Casebook
from assistant.surfaces.feedback import record_feedback
from assistant.surfaces.handout import briefing_markdown, prompts_markdown, write_briefing
from assistant.surfaces.render import MARKER, answer_html, answer_markdown, theme_layout, trainer_html
from records.errors import CasebookError
from records.types import AGE_BANDS, KINDS, NATIONS, OUTCOMES, Answer, Filters

EXAMPLES = [
    "What did reviews say about bruising in non-mobile babies?",
    "What have reviews learned about unseen men and fathers?",
    "What do reviews recommend about safe sleep advice?",
    "What did reviews find about child criminal exploitation and county lines?",
    "What is the learning on professional curiosity and disguised compliance?",
]
STREAM_DELAY_S = 0.02
YEARS_ANY = "any"


def _coverage(cb: Casebook) -> str:
    stats = cb.stats()
    if not stats.documents:
        return "Nothing is indexed yet: run `casebook ingest`, then reload this page."
    years = ", ".join(f"{y}: {n}" for y, n in stats.by_year.items())
    kinds = ", ".join(f"{k.replace('_', ' ')}: {n}" for k, n in stats.by_kind.items())
    if not stats.reviews:
        return f"**What the collection covers.** {stats.documents} documents of your own ({kinds}); no NSPCC case reviews."
    return (
        f"**What the collection covers.** {stats.reviews} UK child safeguarding case reviews "
        f"(published {years}) and {stats.documents - stats.reviews} briefings and guidance pages "
        f"({kinds}). Every answer quotes the reviews it comes from; click a [n] to see the passage."
    )


def _year(value: Any) -> int | None:
    return int(value) if value not in (None, "", YEARS_ANY) else None


def _filters(
    year_from: Any,
    year_to: Any,
    nation: list[str],
    age: list[str],
    outcome: list[str],
    keyword: list[str],
    kind: list[str],
    area: list[str] | None = None,
) -> Filters:
    return Filters(
        year_from=_year(year_from),
        year_to=_year(year_to),
        nation=tuple(nation or ()),
        age_band=tuple(age or ()),
        outcome=tuple(outcome or ()),
        keyword=tuple(keyword or ()),
        kind=tuple(kind or ()),
        area=tuple(area or ()),
    )


def _filter_values(f: Filters) -> list[Any]:
    """Filters as the side panel's component values (the inverse of ``_filters``)."""
    return [
        str(f.year_from) if f.year_from else YEARS_ANY,
        str(f.year_to) if f.year_to else YEARS_ANY,
        list(f.nation),
        list(f.age_band),
        list(f.outcome),
        list(f.keyword),
        list(f.kind),
        list(f.area),
    ]


def _chat_text(answer: Answer) -> str:
    """The answer as the chat bubble shows it (escaped: sources may hold markup)."""
    lines: list[str] = []
    if answer.safety_notice:
        lines.append(f"**⚠️ {html.escape(answer.safety_notice)}**\n")
    lines.extend(f"_{html.escape(note)}_" for note in answer.notes)
    if answer.themes:
        opening, sections = theme_layout(answer)
        lines.append(_linked(opening))
        for title, blocks in sections:
            lines.append(f"**{title}**")
            for i, b in enumerate(blocks, 1):
                support = "".join(f"\n    - {_linked(x.lstrip('— '))}" for x in b.support)
                lines.append(f"{i}. {_linked(b.head)} _({html.escape(b.caption)})_{support}")
    else:
        lines.extend(_linked(line) for line in answer.text.split("\n"))
    if answer.citations:
        lines.append("\n_Click a [n] to see its supporting passage in the answer panel._")
    return "\n\n".join(lines)


def _linked(line: str) -> str:
    """A line of the answer, escaped, with each [n] a link to its source card in the answer panel."""
    return MARKER.sub(lambda m: f"[\\[{m.group(1)}\\]](#cb-cite-{m.group(1)})", html.escape(line))


def _streamed(cb: Casebook, message: str, filters: Filters, history: list[str]) -> Iterator[tuple[str, Answer | None]]:
    """Run a generative ``ask`` in a thread; yield (draft so far, None) while the model writes, then
    ("", the guarded answer). Errors are re-raised here, in the caller's thread."""
    import queue
    import threading

    tokens: queue.Queue[str] = queue.Queue()
    result: dict[str, Any] = {}

    def work() -> None:
        try:
            result["answer"] = cb.ask(message, filters, history=history, on_token=tokens.put)
        except BaseException as exc:  # handed to the caller's thread below
            result["error"] = exc

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    draft = ""
    while thread.is_alive() or not tokens.empty():
        try:
            draft += tokens.get(timeout=0.25)
            while not tokens.empty():
                draft += tokens.get_nowait()
            yield draft, None
        except queue.Empty:
            continue
    thread.join()
    if "error" in result:
        raise result["error"]
    yield "", result["answer"]


def _save(cb: Casebook, markdown: str, stem: str, fmt: str, briefing: Any = None) -> Any:
    folder = cb.settings.cache_dir / "handouts"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"casebook-{stem}-{hashlib.sha1(markdown.encode()).hexdigest()[:10]}.{fmt}"
    if briefing is not None:
        write_briefing(briefing, fmt, path)
    else:
        path.write_text(markdown, encoding="utf-8")
    return path


def build_app(cb: Casebook) -> Any:
    keywords = cb.keywords

    def respond(message: str, chat: list[dict[str, Any]], state: dict[str, Any], *filter_values: Any) -> Iterator[tuple[Any, ...]]:
        chat = [*chat, {"role": "user", "content": html.escape(message or "")}]
        # Side-panel values that only show what the last question said (and were not touched since)
        # apply to that question alone; a value the user set or changed is the user's filter.
        empty = _filter_values(Filters())
        read_before = state.get("read_values") or empty
        values = [e if v == r and r != e else v for v, r, e in zip(filter_values, read_before, empty, strict=True)]
        filters = _filters(*values)
        same = [gr.update() for _ in filter_values]
        history = state.get("questions", [])
        answer: Answer | None = None
        try:
            if cb.llm.backend == "extractive":
                answer = cb.ask(message, filters, history=history)
            else:
                for draft, done in _streamed(cb, message, filters, history):
                    if done is not None:
                        answer = done
                        break
                    shown = f"_Drafting with {html.escape(cb.llm.label)}; checking every sentence against its sources when done…_\n\n"
                    drafting = [*chat, {"role": "assistant", "content": shown + html.escape(draft)}]
                    yield drafting, state, "", gr.update(), gr.update(), "", *same
        except CasebookError as exc:
            chat.append({"role": "assistant", "content": f"⚠️ {html.escape(str(exc))}"})
            yield chat, state, "", gr.update(), gr.update(), "", *same
            return
        if answer is None:
            return
        questions = [*state.get("questions", []), answer.standalone_question or answer.question]
        applied = _filter_values(answer.filters)
        read_now = [a if v == e else e for a, v, e in zip(applied, values, empty, strict=True)] if answer.read_as else empty
        state = {**state, "questions": questions[-10:], "last": answer, "read_values": read_now}
        text = _chat_text(answer)
        panel = answer_html(answer)
        markdown = answer_markdown(answer)
        # Stream the answer in, sentence by sentence; the panel and downloads come with the last piece.
        pieces = text.split("\n\n")
        chat.append({"role": "assistant", "content": ""})
        for i in range(1, len(pieces)):
            chat[-1] = {"role": "assistant", "content": "\n\n".join(pieces[:i])}
            yield chat, state, "", gr.update(), gr.update(), "", *same
            time.sleep(STREAM_DELAY_S)
        chat[-1] = {"role": "assistant", "content": text}
        path = cb.settings.cache_dir / "answers" / f"casebook-answer-{hashlib.sha1(markdown.encode()).hexdigest()[:10]}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(markdown, encoding="utf-8")
        # Filters read from the question are set in the side panel, where they can be seen and undone.
        changed = answer.read_as or read_before != empty
        shown_filters = [gr.update(value=v) for v in (applied if answer.read_as else values)] if changed else same
        yield chat, state, panel, gr.update(value=markdown), gr.update(value=str(path), visible=True), "", *shown_filters

    def feedback(helpful: bool, comment: str, state: dict[str, Any]) -> str:
        answer = state.get("last")
        if answer is None:
            return "Ask a question first; feedback is about an answer."
        record_feedback(cb.settings.feedback_path, answer, helpful=helpful, comment=comment)
        return "Thank you: your feedback is saved on this machine for the evaluation team."

    def on_like(state: dict[str, Any], data: gr.LikeData) -> str:
        return feedback(bool(data.liked), "", state)

    with gr.Blocks(title="Casebook", analytics_enabled=False) as app:
        state = gr.State({"questions": []})
        with gr.Sidebar(label="Filters", open=True):
            gr.Markdown(
                "**Filters** apply to your next question. Filters read from a question are shown here "
                "and apply to that question only, unless you change them."
            )
            years = [YEARS_ANY, *(str(y) for y in cb.years)]
            year_from = gr.Dropdown(years, value=YEARS_ANY, label="Published from", elem_id="year-from")
            year_to = gr.Dropdown(years, value=YEARS_ANY, label="Published up to", elem_id="year-to")
            nation = gr.CheckboxGroup(list(NATIONS), label="Nation", elem_id="nation")
            age = gr.CheckboxGroup(list(AGE_BANDS), label="Child's age", elem_id="age-band")
            outcome = gr.CheckboxGroup(list(OUTCOMES), label="Outcome", elem_id="outcome")
            keyword = gr.Dropdown(keywords, multiselect=True, label="NSPCC keyword", elem_id="keyword")
            kind = gr.CheckboxGroup(list(KINDS), label="Kind of source", elem_id="kind")
            area = gr.Dropdown(cb.areas, multiselect=True, label="Area or partnership", elem_id="area")
        gr.Markdown("# Casebook\nLearning from UK child safeguarding case reviews, with the passage behind every claim.")
        gr.Markdown(_coverage(cb), elem_id="coverage")
        with gr.Tab("Ask", elem_id="tab-ask"), gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Conversation",
                    height=460,
                    elem_id="chat",
                    placeholder="Ask about what case reviews found, e.g. bruising in non-mobile babies.",
                    buttons=["copy"],
                )
                question = gr.Textbox(label="Your question", placeholder="Ask a question…", elem_id="question", lines=1)
                with gr.Row():
                    send = gr.Button("Ask", variant="primary", elem_id="ask")
                    clear = gr.Button("New conversation", elem_id="clear")
                gr.Examples(EXAMPLES, inputs=question, label="Questions practitioners ask")
            with gr.Column(scale=2):
                panel = gr.HTML("", elem_id="answer-panel")
                download = gr.DownloadButton("Download answer (Markdown)", visible=False, elem_id="download")
                markdown = gr.Code(language="markdown", label="Answer as Markdown (copy)", interactive=False, elem_id="markdown")
                comment = gr.Textbox(label="Feedback comment (optional)", elem_id="comment")
                with gr.Row():
                    up = gr.Button("Helpful", elem_id="thumbs-up")
                    down = gr.Button("Not helpful", elem_id="thumbs-down")
                thanks = gr.Markdown("", elem_id="feedback-status")

        with gr.Tab("Trainer", elem_id="tab-trainer"):
            gr.Markdown(
                "Discussion prompts and 7-minute briefings for team sessions, built from the reviews' own learning "
                "and recommendations. Every factual line is quoted and cited; the filters apply here too."
            )
            with gr.Row():
                theme = gr.Textbox(label="Theme", placeholder="e.g. unseen men, unsafe sleeping, neglect", elem_id="theme")
                n_prompts = gr.Slider(1, 10, value=5, step=1, label="Prompts", elem_id="n-prompts")
                fmt = gr.Radio(["md", "docx", "pdf"], value="docx", label="Briefing file", elem_id="format")
            with gr.Row():
                make_prompts = gr.Button("Make discussion prompts", elem_id="make-prompts")
                make_briefing = gr.Button("Make 7-minute briefing", variant="primary", elem_id="make-briefing")
            trainer_panel = gr.HTML("", elem_id="trainer-panel")
            trainer_file = gr.DownloadButton("Download", visible=False, elem_id="trainer-download")

        def prompts_fn(theme_text: str, n: float, *filter_values: Any) -> tuple[Any, ...]:
            try:
                p = cb.prompts(theme_text, _filters(*filter_values), n=int(n))
            except CasebookError as exc:
                return f"<div class='cb-refusal'>{html.escape(str(exc))}</div>", gr.update(visible=False)
            page = trainer_html(f"Discussion prompts: {p.theme}", [("", [x.text for x in p.lines])], p.citations, p.notice)
            path = _save(cb, prompts_markdown(p), "prompts", "md")
            return page, gr.update(value=str(path), visible=True, label="Download prompts (Markdown)")

        def briefing_fn(theme_text: str, file_format: str, *filter_values: Any) -> tuple[Any, ...]:
            try:
                b = cb.briefing(theme_text, _filters(*filter_values))
            except CasebookError as exc:
                return f"<div class='cb-refusal'>{html.escape(str(exc))}</div>", gr.update(visible=False)
            sections = [(name, [x.text for x in lines]) for name, lines in b.sections]
            page = trainer_html(b.title, sections, b.citations, b.notice)
            path = _save(cb, briefing_markdown(b), "briefing", file_format, briefing=b)
            return page, gr.update(value=str(path), visible=True, label=f"Download briefing ({file_format})")

        filters = [year_from, year_to, nation, age, outcome, keyword, kind, area]
        # The page's own events are not an API: hidden from Gradio's API page; the real API is /docs.
        make_prompts.click(prompts_fn, [theme, n_prompts, *filters], [trainer_panel, trainer_file], api_visibility="private")
        make_briefing.click(briefing_fn, [theme, fmt, *filters], [trainer_panel, trainer_file], api_visibility="private")
        outputs = [chatbot, state, panel, markdown, download, question, *filters]
        send.click(respond, [question, chatbot, state, *filters], outputs, api_visibility="private")
        question.submit(respond, [question, chatbot, state, *filters], outputs, api_visibility="private")
        clear.click(lambda: ([], {"questions": []}, "", "", ""), None, [chatbot, state, panel, markdown, thanks], api_visibility="private")
        up.click(lambda c, s: feedback(True, c, s), [comment, state], thanks, api_visibility="private")
        down.click(lambda c, s: feedback(False, c, s), [comment, state], thanks, api_visibility="private")
        chatbot.like(on_like, [state], thanks, api_visibility="private")
    app.queue(default_concurrency_limit=8)
    return app
