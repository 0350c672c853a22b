"""The columns each kind of import understands, and how headers in a file are matched to them.

Headers are compared case- and space-insensitively, ignoring punctuation: ``Personal-Nr.``,
``personal nr`` and ``PERSONALNR`` are the same column. The README lists every alias.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from app.imports.models import ImportKind


@dataclass(frozen=True)
class Column:
    name: str  # the field, also the English header of the template
    label: object  # shown to the user (lazy translation)
    german: str  # the German header of the template
    aliases: tuple[str, ...] = ()
    required: bool = False
    max_length: int = 200
    #: The column holds a date (a file writes it as DD.MM.YYYY or so, the API as YYYY-MM-DD).
    date: bool = False


#: Staff and completion files both name people by their personnel number.
PERSONNEL_NUMBER = Column(
    "personnel_number",
    _l("Personnel number"),
    "Personalnummer",
    (
        "Personalnummer",
        "Personal-Nr.",
        "Pers.-Nr.",
        "PersNr",
        "Personalnr",
        "personnel_number",
        "personnel number",
        "employee number",
        "employee id",
        "staff number",
    ),
    required=True,
    max_length=32,
)

COLUMNS: dict[str, tuple[Column, ...]] = {
    ImportKind.DEPARTMENTS: (
        Column(
            "code",
            _l("Code"),
            "OE-Nummer",
            ("Code", "Kürzel", "OE-Nummer", "OE-Nr.", "OE", "OE-Kürzel", "department code"),
            required=True,
            max_length=32,
        ),
        Column(
            "name",
            _l("Name"),
            "Bezeichnung",
            ("Bezeichnung", "Name", "OE-Bezeichnung", "Organisationseinheit", "title"),
            required=True,
        ),
        Column(
            "parent",
            _l("Parent department"),
            "Übergeordnete OE",
            ("Übergeordnet", "Übergeordnete OE", "Übergeordnete Einheit", "parent", "parent code"),
            max_length=32,
        ),
        Column(
            "head",
            _l("Head (personnel number)"),
            "Leitung (Personalnummer)",
            (
                "Leitung",
                "Leitung Personalnummer",
                "Leitung (Personalnummer)",
                "Leiter",
                "Leiterin",
                "head",
                "head personnel number",
            ),
            max_length=32,
        ),
    ),
    ImportKind.STAFF: (
        PERSONNEL_NUMBER,
        Column(
            "first_name",
            _l("First name"),
            "Vorname",
            ("Vorname", "Vornamen", "first_name", "first name", "given name"),
            required=True,
            max_length=100,
        ),
        Column(
            "last_name",
            _l("Last name"),
            "Nachname",
            (
                "Nachname",
                "Familienname",
                "Name",
                "last_name",
                "last name",
                "surname",
                "family name",
            ),
            required=True,
            max_length=100,
        ),
        Column(
            "email",
            _l("E-mail"),
            "E-Mail",
            ("E-Mail", "Email", "E-Mail-Adresse", "Mail", "email address"),
            max_length=254,
        ),
        Column(
            "department",
            _l("Department (code)"),
            "Organisationseinheit",
            (
                "Organisationseinheit",
                "OE",
                "OE-Nummer",
                "Abteilung",
                "Dienststelle",
                "department",
                "department code",
                "org unit",
            ),
            required=True,
            max_length=32,
        ),
        Column(
            "position",
            _l("Position"),
            "Stelle",
            ("Stelle", "Stellenbezeichnung", "Funktion", "position", "job title"),
        ),
        Column(
            "entry_date",
            _l("Entry date"),
            "Eintrittsdatum",
            ("Eintrittsdatum", "Eintritt", "entry_date", "entry date", "start date", "hire date"),
            date=True,
        ),
        Column(
            "exit_date",
            _l("Exit date"),
            "Austrittsdatum",
            ("Austrittsdatum", "Austritt", "exit_date", "exit date", "leaving date", "end date"),
            date=True,
        ),
    ),
    ImportKind.COMPLETIONS: (
        PERSONNEL_NUMBER,
        Column(
            "course",
            _l("Course (code or title)"),
            "Kurs",
            (
                "Kurs",
                "Kurscode",
                "Kurs-Code",
                "Schulung",
                "Schulungscode",
                "Veranstaltung",
                "course",
                "course code",
                "course title",
            ),
            required=True,
        ),
        Column(
            "completed_on",
            _l("Completion date"),
            "Teilnahmedatum",
            (
                "Teilnahmedatum",
                "Abschlussdatum",
                "Abgeschlossen am",
                "Datum",
                "completed_on",
                "completed on",
                "completion date",
                "date",
            ),
            required=True,
            date=True,
        ),
        Column(
            "certificate_ref",
            _l("Certificate reference"),
            "Nachweis",
            (
                "Nachweis",
                "Nachweisnummer",
                "Zertifikat",
                "Zertifikatsnummer",
                "Teilnahmebescheinigung",
                "certificate",
                "certificate_ref",
                "certificate reference",
            ),
        ),
    ),
}

KIND_LABELS = {
    ImportKind.DEPARTMENTS: _l("Departments"),
    ImportKind.STAFF: _l("Staff"),
    ImportKind.COMPLETIONS: _l("Past completions"),
}


def normalise(header: str) -> str:
    """``"Personal-Nr. "`` → ``"personalnr"``: case, spaces and punctuation do not count."""
    return re.sub(r"[\W_]+", "", str(header).casefold())


def columns_of(kind: str) -> tuple[Column, ...]:
    return COLUMNS[ImportKind(kind)]


def column(kind: str, name: str) -> Column:
    return next(c for c in columns_of(kind) if c.name == name)


@dataclass
class HeaderMatch:
    """Which column of the file holds which field."""

    positions: dict[str, int] = field(default_factory=dict)  # field → index in the row
    headers: dict[str, str] = field(default_factory=dict)  # field → header as in the file
    unknown: list[str] = field(default_factory=list)  # headers matched to nothing
    missing: list[str] = field(default_factory=list)  # required fields not found
    duplicates: list[str] = field(default_factory=list)  # fields found in two columns


def match_headers(kind: str, headers: list[str], mapping: dict[str, str]) -> HeaderMatch:
    """Match a file's header row to the fields of ``kind``; ``mapping`` ({header: field, or
    "" to ignore}) is the user's word for headers the aliases do not know."""
    known = {name for name in (c.name for c in columns_of(kind))}
    by_alias: dict[str, str] = {}
    for col in columns_of(kind):
        for alias in (col.name, *col.aliases):
            by_alias.setdefault(normalise(alias), col.name)
    user = {normalise(header): target for header, target in mapping.items()}
    match = HeaderMatch()
    for index, header in enumerate(headers):
        key = normalise(header)
        if not key:
            continue  # an empty trailing column
        target: str | None
        if key in user:
            target = user[key]
            if not target:
                continue  # the user chose to ignore it
        else:
            target = by_alias.get(key)
        if target is None or target not in known:
            match.unknown.append(header)
            continue
        if target in match.positions:
            match.duplicates.append(target)
            continue
        match.positions[target] = index
        match.headers[target] = header
    match.missing = [
        c.name for c in columns_of(kind) if c.required and c.name not in match.positions
    ]
    return match


def parse_mapping_options(options: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``["Spalte=field", …]`` (the CLI's ``--map``) → ``{"Spalte": "field"}``."""
    mapping = {}
    for option in options:
        header, sep, target = option.partition("=")
        if not sep or not header.strip():
            raise ValueError(option)
        mapping[header.strip()] = target.strip()
    return mapping
