"""The incident's logbook as a PDF (fpdf2): the header, then every sequenced event in the order
it happened (seq), then the evaluation points. Pure: an IncidentRecord in, bytes out.

- Times are in the incident's time zone (hub/timeline/zone.py), each line with its author, the
  author's organisation and discipline.
- A feed entry's corrections are printed under it, indented, with their own time, author and
  reason, so the reader sees what was first said and what it became; at the correction's own
  place in time a line says which entry it corrected.
- An exercise says EXERCISE (in the three words of the incident page's banner) at the top of
  every page, in red; every page has its number out of the total.
- The words are French, Dutch or English (`lang`); the text members wrote is as they wrote it.
  DejaVu Sans (Debian's fonts-dejavu-core, which scripts/setup installs) covers every accent of
  those languages and German; a character outside it prints as a blank, never an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from hub.errors import HubError
from hub.timeline.record import IncidentRecord
from hub.timeline.zone import INCIDENT_ZONE, local
from models.events import EvaluationPointPublic, EventPublic

Language = Literal["fr", "nl", "en"]
LANGUAGES: tuple[Language, ...] = ("fr", "nl", "en")

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
EXERCISE_BANNER = "EXERCISE — EXERCICE — OEFENING"

WORDS: dict[Language, dict[str, str]] = {
    "en": {
        "logbook": "Logbook",
        "page": "Page {page} of {pages}",
        "kind": "Kind",
        "phase": "Phase",
        "status": "Status",
        "opened": "Opened",
        "closed": "Closed",
        "exported": "Exported",
        "by": "by",
        "zone": "Times in {zone}",
        "events": "Events",
        "evaluation": "Evaluation points",
        "no_points": "No evaluation points.",
        "went_well": "Went well",
        "to_improve": "To improve",
        "owner": "Follow-up",
        "due": "due",
        "open": "open",
        "closed_point": "closed",
        "correction": "Correction",
        "reason": "reason",
        "corrects": "corrects entry #{seq}, printed under it",
        "decision": "DECISION",
        "info": "Information",
        "action": "Action",
        "request": "Request",
        "urgent": "URGENT",
        "flash": "FLASH",
        "feed.posted": "Feed",
        "feed.corrected": "Correction",
        "anchor.created": "Anchor created",
        "anchor.updated": "Anchor changed",
        "anchor.deleted": "Anchor deleted",
        "incident.updated": "Incident changed",
        "member.added": "Member added",
        "member.removed": "Member removed",
        "convoy.updated": "Convoy",
        "convoy.alert": "Convoy alert",
        "alert.drafted": "Population alert drafted",
        "alert.sent": "Population alert sent",
        "alert.updated": "Population alert updated",
        "alert.cancelled": "Population alert cancelled",
        "evaluation.created": "Evaluation point recorded",
        "evaluation.updated": "Evaluation point changed",
    },
    "fr": {
        "logbook": "Main courante",
        "page": "Page {page} sur {pages}",
        "kind": "Type",
        "phase": "Phase",
        "status": "Statut",
        "opened": "Ouvert le",
        "closed": "Clôturé le",
        "exported": "Exporté le",
        "by": "par",
        "zone": "Heures de {zone}",
        "events": "Événements",
        "evaluation": "Points d'évaluation",
        "no_points": "Aucun point d'évaluation.",
        "went_well": "Point fort",
        "to_improve": "À améliorer",
        "owner": "Suivi",
        "due": "échéance",
        "open": "ouvert",
        "closed_point": "clôturé",
        "correction": "Correction",
        "reason": "motif",
        "corrects": "corrige l'entrée n° {seq}, imprimée sous celle-ci",
        "decision": "DÉCISION",
        "info": "Information",
        "action": "Action",
        "request": "Demande",
        "urgent": "URGENT",
        "flash": "FLASH",
        "feed.posted": "Main courante",
        "feed.corrected": "Correction",
        "anchor.created": "Repère créé",
        "anchor.updated": "Repère modifié",
        "anchor.deleted": "Repère supprimé",
        "incident.updated": "Incident modifié",
        "member.added": "Membre ajouté",
        "member.removed": "Membre retiré",
        "convoy.updated": "Convoi",
        "convoy.alert": "Alerte de convoi",
        "alert.drafted": "Alerte à la population préparée",
        "alert.sent": "Alerte à la population envoyée",
        "alert.updated": "Alerte à la population mise à jour",
        "alert.cancelled": "Alerte à la population annulée",
        "evaluation.created": "Point d'évaluation noté",
        "evaluation.updated": "Point d'évaluation modifié",
    },
    "nl": {
        "logbook": "Logboek",
        "page": "Pagina {page} van {pages}",
        "kind": "Soort",
        "phase": "Fase",
        "status": "Status",
        "opened": "Geopend",
        "closed": "Gesloten",
        "exported": "Geëxporteerd",
        "by": "door",
        "zone": "Tijden in {zone}",
        "events": "Gebeurtenissen",
        "evaluation": "Evaluatiepunten",
        "no_points": "Geen evaluatiepunten.",
        "went_well": "Ging goed",
        "to_improve": "Te verbeteren",
        "owner": "Opvolging",
        "due": "tegen",
        "open": "open",
        "closed_point": "afgesloten",
        "correction": "Correctie",
        "reason": "reden",
        "corrects": "corrigeert bericht nr. {seq}, eronder afgedrukt",
        "decision": "BESLISSING",
        "info": "Informatie",
        "action": "Actie",
        "request": "Vraag",
        "urgent": "DRINGEND",
        "flash": "FLASH",
        "feed.posted": "Logboek",
        "feed.corrected": "Correctie",
        "anchor.created": "Ankerpunt aangemaakt",
        "anchor.updated": "Ankerpunt gewijzigd",
        "anchor.deleted": "Ankerpunt verwijderd",
        "incident.updated": "Incident gewijzigd",
        "member.added": "Lid toegevoegd",
        "member.removed": "Lid verwijderd",
        "convoy.updated": "Konvooi",
        "convoy.alert": "Konvooialarm",
        "alert.drafted": "Alarmering van de bevolking voorbereid",
        "alert.sent": "Alarmering van de bevolking verstuurd",
        "alert.updated": "Alarmering van de bevolking bijgewerkt",
        "alert.cancelled": "Alarmering van de bevolking ingetrokken",
        "evaluation.created": "Evaluatiepunt genoteerd",
        "evaluation.updated": "Evaluatiepunt gewijzigd",
    },
}

RED = (183, 28, 28)
GREY = (90, 90, 90)
BLACK = (0, 0, 0)


def stamp(text: str) -> str:
    """A wire time (ISO 8601 UTC) as the incident's local day and time."""
    return f"{local(datetime.fromisoformat(text)):%d/%m/%Y %H:%M:%S}"


class _Book(FPDF):
    def __init__(self, lang: Language, exercise: bool) -> None:
        super().__init__(format="A4")
        self.words = WORDS[lang]
        self.exercise = exercise
        if not (FONT_DIR / "DejaVuSans.ttf").exists():
            # scripts/setup installs fonts-dejavu-core; without it no accent could be printed.
            raise HubError("unavailable", "the logbook's font (fonts-dejavu-core) is missing")
        self.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(auto=True, margin=18)
        self.alias_nb_pages("{nb}")

    def header(self) -> None:
        if self.exercise:
            self.set_font("DejaVu", "B", 12)
            self.set_text_color(*RED)
            self.cell(0, 7, EXERCISE_BANNER, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.set_text_color(*BLACK)
            self.ln(2)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font("DejaVu", "", 8)
        self.set_text_color(*GREY)
        text = self.words["page"].format(page=self.page_no(), pages="{nb}")
        self.cell(0, 6, text, align="C")
        self.set_text_color(*BLACK)

    def line_of(self, text: str, *, size: float = 9, bold: bool = False, indent: float = 0) -> None:
        self.set_font("DejaVu", "B" if bold else "", size)
        self.set_x(self.l_margin + indent)
        self.multi_cell(self.epw - indent, size * 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render_logbook(
    record: IncidentRecord, lang: Language, exported_by: str, now: datetime | None = None
) -> bytes:
    incident = record.incident
    words = WORDS[lang]
    book = _Book(lang, incident["kind"] == "exercise")
    book.set_title(f"{words['logbook']} — {incident['title']}")
    book.set_creator("CrisisHub")
    book.add_page()
    book.line_of(f"{words['logbook']} — {incident['title']}", size=16, bold=True)
    book.ln(1)
    facts = [
        f"{words['kind']}: {incident['kind']}   {words['phase']}: {incident['phase']}   "
        f"{words['status']}: {incident['status']}",
        f"{words['opened']} {stamp(incident['created_at'])}",
    ]
    if incident["closed_at"] is not None:
        facts.append(f"{words['closed']} {stamp(incident['closed_at'])}")
    exported = (now or datetime.now(UTC)).astimezone(INCIDENT_ZONE)
    facts.append(f"{words['exported']} {exported:%d/%m/%Y %H:%M:%S} {words['by']} {exported_by}")
    facts.append(words["zone"].format(zone=str(INCIDENT_ZONE)) + f"   ·   id {incident['id']}")
    for fact in facts:
        book.line_of(fact, size=9)
    book.ln(3)
    book.line_of(words["events"], size=13, bold=True)
    book.ln(1)
    # Every correction under the entry first posted, a correction of a correction included
    # (the chain followed back to its root), in the order they were made.
    corrections: dict[str, list[EventPublic]] = {}
    seq_of: dict[str, int] = {}
    root_of: dict[str, str] = {}
    for event in record.events:
        if event["type"] not in ("feed.posted", "feed.corrected"):
            continue
        entry_id = str(event["data"]["id"])
        seq_of[entry_id] = event["seq"]
        if event["type"] == "feed.corrected":
            corrected = str(event["data"]["corrects"])
            root_of[entry_id] = root_of.get(corrected, corrected)
            corrections.setdefault(root_of[entry_id], []).append(event)
    for event in record.events:
        _event(book, words, event, record.disciplines, corrections, seq_of, root_of)
    book.ln(3)
    book.line_of(words["evaluation"], size=13, bold=True)
    book.ln(1)
    if not record.points:
        book.line_of(words["no_points"])
    for point in record.points:
        _point(book, words, point)
    return bytes(book.output())


def _who(author: Mapping[str, Any], disciplines: Mapping[str, str]) -> str:
    discipline = author.get("discipline") or disciplines.get(str(author["id"]))
    where = author["organisation"] + (f", {discipline}" if discipline else "")
    return f"{author['name']} ({where})"


def _event(
    book: _Book,
    words: dict[str, str],
    event: EventPublic,
    disciplines: Mapping[str, str],
    corrections: Mapping[str, list[EventPublic]],
    seq_of: Mapping[str, int],
    root_of: Mapping[str, str],
) -> None:
    kind = event["type"]
    data = event["data"]
    head = f"#{event['seq']}  {stamp(event['at'])}  {words.get(kind, kind)}"
    author = data["author"] if kind.startswith("feed.") else event["actor"]
    book.set_text_color(*GREY)
    book.line_of(f"{head}  —  {_who(author, disciplines)}", size=8)
    book.set_text_color(*BLACK)
    if kind == "feed.posted":
        marks = [words.get(data["kind"], data["kind"])]
        if data["priority"] != "normal":
            marks.append(words.get(data["priority"], data["priority"]))
        book.line_of(f"[{' · '.join(marks)}] {data['text']}", bold=data["kind"] == "decision")
        for correction in corrections.get(str(data["id"]), []):
            fixed = correction["data"]
            book.set_text_color(*GREY)
            of = seq_of.get(str(fixed["corrects"]))
            chained = f" (#{of})" if of is not None and of != event["seq"] else ""
            book.line_of(
                f"{words['correction']} #{correction['seq']}{chained}  {stamp(correction['at'])}"
                f"  —  {_who(fixed['author'], disciplines)}",
                size=8,
                indent=8,
            )
            book.set_text_color(*BLACK)
            book.line_of(f"{fixed['text']}  ({words['reason']}: {fixed['reason']})", indent=8)
    elif kind == "feed.corrected":
        # where it is printed: under the entry first posted
        original = seq_of.get(root_of.get(str(data["id"]), str(data["corrects"])))
        book.line_of(words["corrects"].format(seq=original if original is not None else "?"))
    else:
        book.line_of(_summary(kind, data, words))
    book.ln(1.5)


def _summary(kind: str, data: Mapping[str, Any], words: dict[str, str]) -> str:
    if kind.startswith("anchor."):
        return f"{data['label']} ({data['kind']}), v{data['version']}"
    if kind == "incident.updated":
        return f"{data['title']} — {data['phase']}, {data['status']}"
    if kind.startswith("member."):
        role = f", {data['role']}" if "role" in data else ""
        return f"{data['name']} ({data['username']}{role})"
    if kind == "convoy.updated":
        return f"{data['name']} — {data['status']}, {len(data['vehicles'])} vehicle(s)"
    if kind == "convoy.alert":
        target = f" {data['anchor_label']}" if "anchor_label" in data else ""
        return f"{data['vehicle_label']}: {data['alert']}{target}"
    if kind.startswith("alert."):
        info = data["info"]
        text: Mapping[str, Any] = next(iter(info.values()), {}) if info else {}
        headline = text.get("headline", "")
        channels = ", ".join(data["channels"])
        return f"{headline} — {data['cap_status']}, {data['event']} ({channels})"
    if kind.startswith("evaluation."):
        state = words["open"] if data["state"] == "open" else words["closed_point"]
        return f"{words[data['kind']]} ({state}): {data['text']}"
    return kind


def _point(book: _Book, words: dict[str, str], point: EvaluationPointPublic) -> None:
    state = words["open"] if point["state"] == "open" else words["closed_point"]
    book.set_text_color(*GREY)
    book.line_of(
        f"{words[point['kind']]} — {state} — {stamp(point['created_at'])} — "
        f"{_who(point['author'], {})}",
        size=8,
    )
    book.set_text_color(*BLACK)
    book.line_of(point["text"])
    follow = []
    if point["owner"]:
        follow.append(f"{words['owner']}: {point['owner']}")
    if point["due"]:
        day = datetime.fromisoformat(point["due"])
        follow.append(f"{words['due']} {day:%d/%m/%Y}")
    if follow:
        book.line_of(", ".join(follow), indent=4)
    book.ln(1.5)
