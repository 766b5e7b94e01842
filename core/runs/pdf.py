"""The run report as an A4 PDF, made on the server with fpdf2 (pure Python, no system
packages). The built-in Helvetica covers Latin-1, which has every German letter; the few
typographic characters outside it are written as their plain equivalents."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import TYPE_CHECKING, Any

from core.quickcheck.model import AMPEL_LABEL
from core.runs.model import PERSPECTIVE_LABEL, REGIONS, SECTORS, SIZE_CLASSES, RunInfo
from core.runs.view import CompanyView, PhaseView

_PLAIN = str.maketrans(
    {"„": '"', "“": '"', "”": '"', "‚": "'", "‘": "'", "’": "'", "–": "-", "—": "-", "…": "..."}
)
NEXT_STEPS = (
    "Besprechen Sie die Ergebnisse mit Geschäftsführung und Beschäftigten, besonders die "
    "Bereiche mit dem größten Unterschied zwischen beiden Sichten.",
    "Wählen Sie aus den empfohlenen Einträgen ein bis zwei aus, mit denen die Tandems beginnen.",
    "Vereinbaren Sie einen Termin für die Wiederholungsmessung am Ende des Durchlaufs.",
)


def _latin1(text: str) -> str:
    return text.translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


def _score(value: float | None, ampel: str | None) -> str:
    if value is None:
        return "-"
    return f"{round(value)} ({AMPEL_LABEL[ampel]})" if ampel else f"{round(value)}"


if TYPE_CHECKING:
    from fpdf import FPDF

    class _Report(FPDF):
        def text_line(
            self, text: str, size: int = 10, style: str = "", gap: float = 1.5
        ) -> None: ...
        def row(self, cells: list[str], widths: list[int], bold: bool = False) -> None: ...


@cache
def _report_class() -> type[_Report]:
    """fpdf2 is imported when the first PDF is made, not with the module: ~30 MiB of RSS
    that every app worker (the indexing worker too) would carry for a download only run
    reports and tandem handouts offer (docs/PERFORMANCE.md)."""
    from fpdf import FPDF

    class Report(FPDF):
        def text_line(self, text: str, size: int = 10, style: str = "", gap: float = 1.5) -> None:
            self.set_font("Helvetica", style, size)
            self.multi_cell(0, size * 0.5, _latin1(text), new_x="LMARGIN", new_y="NEXT")
            self.ln(gap)

        def row(self, cells: list[str], widths: list[int], bold: bool = False) -> None:
            self.set_font("Helvetica", "B" if bold else "", 9)
            for text, width in zip(cells, widths, strict=True):
                self.cell(width, 6, _latin1(text), border=1)
            self.ln(6)

    return Report  # type: ignore[return-value]


def _new_report() -> _Report:
    return _report_class()(format="A4")


def _phase_table(pdf: _Report, phase: PhaseView, min_group: int) -> None:
    for group in phase.groups:
        if group.withheld:
            pdf.text_line(
                f"{group.label}: noch zu wenige Antworten (Ergebnisse ab {min_group}).", 9
            )
    if not phase.dimensions:
        return
    widths = [62, 38, 38, 32]
    pdf.row(["Bereich", "Geschäftsführung", "Beschäftigte", "Unterschied"], widths, bold=True)
    for d in phase.dimensions:
        m, e = d.scores.get("unternehmen"), d.scores.get("mitarbeitende")
        pdf.row(
            [
                d.title,
                _score(m.score, m.ampel) if m else "-",
                _score(e.score, e.ampel) if e else "noch zu wenige",
                "-" if d.gap is None else f"{d.gap:+.0f}",
            ],
            widths,
        )
    pdf.ln(2)
    for d in phase.dimensions:
        if d.gap_sentence and d.gap_level != "gering":
            pdf.text_line(d.gap_sentence, 9)


def report_pdf(
    run: RunInfo,
    view: CompanyView,
    titles: dict[str, str],
    site_label: str,
    today: dt.date | None = None,
) -> bytes:
    """The report; ``titles`` maps recommended entry slugs to their titles."""
    pdf = _new_report()
    pdf.set_title(_latin1(f"Bericht Durchlauf {run.company}"))
    pdf.set_author("Mentoring 4.0 Werkzeugkasten")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.text_line(f"Bericht zum Durchlauf: {run.company}", 16, "B", 3)
    pdf.text_line(
        f"{site_label} · {REGIONS.get(run.region, run.region)} · "
        f"{SECTORS.get(run.sector, run.sector)} · "
        f"{SIZE_CLASSES.get(run.size_class, run.size_class)}",
        9,
    )
    pdf.text_line(
        f"Zeitraum {run.starts_on:%d.%m.%Y} bis {run.ends_on:%d.%m.%Y} · erstellt am "
        f"{(today or dt.date.today()):%d.%m.%Y}",
        9,
        gap=4,
    )
    pdf.text_line("Quickcheck zu Beginn", 12, "B")
    _phase_table(pdf, view.start, view.min_group)
    if view.end is not None:
        pdf.ln(2)
        pdf.text_line("Wiederholungsmessung am Ende", 12, "B")
        _phase_table(pdf, view.end, view.min_group)
    if view.progress:
        pdf.ln(2)
        pdf.text_line("Veränderung vom Beginn zum Ende", 12, "B")
        widths = [62, 38, 24, 24, 22]
        pdf.row(["Bereich", "Sicht", "Beginn", "Ende", "Veränderung"], widths, bold=True)
        for p in view.progress:
            pdf.row(
                [
                    p.title,
                    PERSPECTIVE_LABEL[p.perspective],
                    "-" if p.start is None else f"{round(p.start)}",
                    "-" if p.end is None else f"{round(p.end)}",
                    "-" if p.change is None else f"{p.change:+.0f}",
                ],
                widths,
            )
    if view.feedback is not None:
        pdf.ln(2)
        pdf.text_line("Feedback nach dem Durchlauf", 12, "B")
        if view.feedback.withheld:
            pdf.text_line(f"Noch zu wenige Antworten (Ergebnisse ab {view.min_group}).", 9)
        for d in view.feedback.dimensions:
            s = d.scores["feedback"]
            pdf.text_line(f"{d.title}: {_score(s.score, s.ampel)}", 9, gap=0.5)
        if view.feedback.barriers is not None:
            pdf.text_line("Hindernisse nach Bedeutung (Borda-Zählung):", 9, "B")
            for o in view.feedback.barriers.options[:5]:
                pdf.text_line(f"{o.position}. {o.label} ({o.points} Punkte)", 9, gap=0.5)
    recommendations = [r for r in view.start.recommendations if r.slug in titles][:6]
    if recommendations:
        pdf.ln(2)
        pdf.text_line("Empfohlene Einträge aus dem Werkzeugkasten", 12, "B")
        for r in recommendations:
            pdf.text_line(f"- {titles[r.slug]}", 9, gap=0.5)
    pdf.ln(2)
    pdf.text_line("Nächste Schritte", 12, "B")
    for step in NEXT_STEPS:
        pdf.text_line(f"- {step}", 9, gap=0.5)
    return bytes(pdf.output())


def handout_pdf(run: RunInfo, pairs: list[Any], entries: list[Any]) -> bytes:
    """The agreed tandems, one page per pair: fit, per-criterion explanation and the
    toolbox entries for the first meetings (``core.runs.tandems.Handout``'s parts)."""
    pdf = _new_report()
    pdf.set_title(_latin1(f"Tandems Durchlauf {run.company}"))
    pdf.set_author("Mentoring 4.0 Werkzeugkasten")
    pdf.set_auto_page_break(auto=True, margin=15)
    for pair in pairs:
        pdf.add_page()
        pdf.text_line(f"Tandem: {pair.mentor} und {pair.mentee}", 16, "B", 3)
        pdf.text_line(f"Durchlauf {run.company} · Mentorin/Mentor: {pair.mentor} · "
                      f"Mentee: {pair.mentee}", 9)  # fmt: skip
        ampel = f" ({pair.ampel_label})" if pair.ampel_label else ""
        pdf.text_line(f"Passung: {round(pair.fit)} von 100{ampel}", 12, "B", 3)
        if pair.note:
            pdf.text_line(pair.note, 9)
        for c in pair.criteria:
            score = "nicht bewertbar" if c.score is None else f"{round(c.score)} von 100"
            pdf.text_line(f"{c.title} ({score})", 10, "B", 0.5)
            pdf.text_line(c.explanation, 9)
        if entries:
            pdf.ln(2)
            pdf.text_line("Für die ersten Treffen aus dem Werkzeugkasten", 12, "B")
            for e in entries:
                pdf.text_line(f"- {e.title}: {e.summary}", 9, gap=0.5)
    if not pairs:
        pdf.add_page()
        pdf.text_line("Noch keine vereinbarten Tandems.", 12, "B")
    return bytes(pdf.output())
