"""An evaluation result → a self-contained HTML report (and the JSON beside it).

One table row and one small bar plot (inline SVG, current against baseline) per metric, then the
worst cases with their question, answer, citations and why they failed. No external assets, so the
file can be attached to a release or e-mailed. Everything from cases and answers is escaped.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from evals.run import LOWER_IS_BETTER, Baseline, EvalResult, Regression

WORST = 12


def _e(x: object) -> str:
    return html.escape(str(x), quote=True)


def _bar(value: float, baseline: float | None, metric: str) -> str:
    scale = max(value, baseline or 0.0, 1e-9) if metric in LOWER_IS_BETTER else 1.0
    w = 220

    def rect(y: int, v: float, colour: str, label: str) -> str:
        width = max(1.0, w * min(v / scale, 1.0))
        return (
            f'<rect x="70" y="{y}" width="{width:.1f}" height="12" fill="{colour}"/>'
            f'<text x="0" y="{y + 10}" font-size="10">{label}</text>'
            f'<text x="{75 + width:.1f}" y="{y + 10}" font-size="10">{v:g}</text>'
        )

    parts = [rect(2, value, "#1570ef", "this run")]
    if baseline is not None:
        parts.append(rect(18, baseline, "#98a2b3", "baseline"))
    return f'<svg width="340" height="34" role="img" aria-label="{_e(metric)}">{"".join(parts)}</svg>'


def write_report(result: EvalResult, baseline: Baseline, regressions: list[Regression], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data = result.as_dict()
    data["baseline"] = baseline.metrics
    data["regressions"] = [str(r) for r in regressions]
    (folder / "results.json").write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")

    failed = {r.metric for r in regressions}
    rows = []
    for name, value in result.metrics.items():
        base = baseline.metrics.get(name)
        tol = baseline.tolerances.get(name, "")
        status = "REGRESSED" if name in failed else ("ok" if base is not None else "not gated")
        rows.append(
            f"<tr class='{'bad' if name in failed else ''}'><td>{_e(name)}</td><td>{value:g}</td>"
            f"<td>{'' if base is None else f'{base:g}'}</td><td>{_e(tol)}</td><td>{status}</td>"
            f"<td>{_bar(value, base, name)}</td></tr>"
        )
    worst = sorted((o for o in result.cases if o.failures), key=lambda o: -len(o.failures))[:WORST]
    cases = []
    for o in worst:
        cites = "".join(f"<li>[{_e(c['n'])}] {_e(c['title'])}: “{_e(c['quote'])}”</li>" for c in o.answer.get("citations", []))
        cases.append(
            f"<section class='case'><h3>{_e(o.case.id)} <small>({_e(o.case.type)})</small></h3>"
            f"<p><b>Question:</b> {_e(o.case.question)}</p>"
            f"<p><b>Why it failed:</b></p><ul>{''.join(f'<li>{_e(f)}</li>' for f in o.failures)}</ul>"
            f"<details><summary>Answer and citations</summary><pre>{_e(o.answer.get('answer', ''))}</pre><ul>{cites}</ul></details>"
            "</section>"
        )
    verdict = (
        "<p class='bad'>Gate: FAILED — " + "; ".join(_e(r) for r in regressions) + "</p>"
        if regressions
        else "<p class='good'>Gate: passed (no metric fell beyond its tolerance).</p>"
    )
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Casebook evaluation</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem}}
table{{border-collapse:collapse}}td,th{{border:1px solid #d0d5dd;padding:.3rem .6rem;text-align:left}}
tr.bad td{{background:#fef3f2}}.bad{{color:#b42318;font-weight:600}}.good{{color:#067647;font-weight:600}}
.case{{border-top:1px solid #eaecf0;padding:.5rem 0}}pre{{white-space:pre-wrap;background:#f9fafb;padding:.5rem}}</style></head>
<body><h1>Casebook evaluation</h1><p>Dataset: {_e(Path(result.dataset).name)} — {len(result.cases)} cases,
{sum(1 for o in result.cases if o.failures)} with at least one failure.</p>{verdict}
<h2>Metrics</h2><table><tr><th>metric</th><th>this run</th><th>baseline</th><th>tolerance</th><th>status</th><th>plot</th></tr>
{"".join(rows)}</table><p>Metric definitions: see <code>evals/run.py</code> and <code>evals/metrics.py</code>.</p>
<h2>Worst cases</h2>{"".join(cases) or "<p>None: every case passed every check.</p>"}</body></html>"""
    path = folder / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
