"""The German catalogue is complete: Flask-Babel would silently show English otherwise."""

from collections import Counter
from pathlib import Path

from babel.messages.pofile import read_po

CATALOGUE = Path(__file__).resolve().parent.parent / "app/translations/de/LC_MESSAGES/messages.po"


def test_every_message_has_a_german_translation():
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    missing = [
        message.id
        for message in catalogue
        if message.id
        and not (all(message.string) if isinstance(message.string, tuple) else message.string)
    ]
    assert missing == []
    assert not [m.id for m in catalogue if m.id and m.fuzzy]


def test_catalogue_holds_every_text_of_the_source(tmp_path):
    """A text added to the code but not extracted would show up in English."""
    import subprocess
    import sys

    root = CATALOGUE.parents[4]
    template = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(template),
            # From the root, as `make extract-messages` does: babel.cfg's patterns start with
            # app/ (from inside app/ they matched nothing, and the check passed on no texts).
            ".",
        ],
        cwd=root,
        check=True,
        capture_output=True,
    )
    with template.open("rb") as handle:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    with CATALOGUE.open("rb") as handle:
        have = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    assert len(wanted) > 500  # the extraction found the source's texts
    assert sorted(wanted - have) == []


def test_no_text_is_in_the_catalogue_twice():
    """Texts are appended by hand: a second entry for a text silently wins over the first."""
    texts, current = [], None
    for line in [*CATALOGUE.read_text(encoding="utf-8").splitlines(), ""]:
        if line.startswith("msgid "):
            current = [line.removeprefix("msgid ")]
        elif current is not None and line.startswith('"'):
            current.append(line)
        elif current is not None:
            texts.append("".join(current))
            current = None
    assert [text for text, count in Counter(texts).items() if count > 1 and text != '""'] == []
