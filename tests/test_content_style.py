"""The style rules of the toolbox texts (content/README.md, "Stil und Sprache"), checked on
every shipped entry of core and the plugins: one voice across all texts.

What a machine can check is checked here: forbidden openers, the role-name rule, the
house form "der Mentee", the example opener and the length range per kind. Each failure
names the file and the phrase.
"""

from __future__ import annotations

import re

from core.content.model import ContentSet, Entry
from tests.conftest import SHIPPED_CONTENT


def _published(shipped_content_set: ContentSet) -> list[Entry]:
    return [e for e in shipped_content_set.entries if e.status == "published"]


# -- what the rules are ---------------------------------------------------------------------

# Openers the style section replaces by "Beispiel:".
FORBIDDEN_OPENERS = re.compile(
    r"zur veranschaulichung|^(?:\*\*)?(?:ein beispiel|fallbeispiel|als beispiel)\b",
    re.IGNORECASE | re.MULTILINE,
)
EXAMPLE_OPENER = re.compile(r"^(?:\*\*Beispiel:\*\*|Beispiel:)\s")

# Role names: singular only as a pair, plural only as a pair. The pairs are blanked out
# first; what is left of a role word is a generic form used alone. Compounds
# ("Mentor-Seite", "Lotsenrolle") name no person and stay allowed.
_WORD = r"[\wäöüß]+"
_ARTICLE_PAIR = r"(?i:die|der|eine|einer)\s+oder\s+(?i:der|dem|den|des|ein|einem|einen)"
ROLE_PAIRS = [
    re.compile(rf"\bLotsin\s+oder\s+(?:{_WORD}\s+){{0,2}}Lotsen?\b"),
    re.compile(r"\bLotsinnen\s+und\s+Lotsen\b"),
    re.compile(rf"\bMentorin\s+oder\s+(?:{_WORD}\s+){{0,2}}Mentors?\b"),
    re.compile(r"\bMentorin,\s+Mentor\b"),
    re.compile(r"\bMentorinnen(?:\s+und|\s+oder|,)\s+Mentoren\b"),
    re.compile(rf"\bInhaberin\s+oder\s+(?:{_WORD}\s+){{0,2}}Inhabers?\b"),
    re.compile(r"\bInhaberinnen(?:\s+und|,)\s+Inhaber\b"),
    re.compile(rf"\b{_ARTICLE_PAIR}\s+Auszubildende[nr]?\b"),
    re.compile(
        rf"\b(?i:eine|einer)\s+Auszubildenden?\s+oder\s+(?:{_WORD}\s+)?Auszubildende[nr]?\b"
    ),
]
LONE_ROLE = re.compile(
    r"\b(?:Lotse|Lotsen|Lotsin|Lotsinnen|Mentor|Mentors|Mentoren|Mentorin|Mentorinnen"
    r"|Inhaber|Inhabers|Inhaberin"
    r"|(?i:der)\s+Auszubildende|(?i:ein)\s+Auszubildender"
    r"|(?i:dem|einem|einen)\s+Auszubildenden)\b(?!-)"
)
# A pronoun that gives "Mentee" a gender within one sentence ("der Mentee ... er").
# "sein" alone is left out: it is also the verb.
MENTEE_PRONOUN = re.compile(
    r"\bMentees?\b[^.!?:;\n|]*?(?<!sie oder )\b(?:er|seine[mnrs]?)\b(?! oder sie)"
)
# The Mentee is "der Mentee" (den, dem, des Mentees; plural "die Mentees"), in examples
# too. "Mentee-Person" was a second name for the same role; one role, one name.
MENTEE_PERSON = re.compile(r"\bMentee-Person(?:en)?\b", re.IGNORECASE)
# Lower case only: "das Du" may be named as a noun.
INFORMAL_ADDRESS = re.compile(r"\b(?:du|dich|dir|dein|deine[mnrs]?|euch|euer|eure[mnrs]?)\b")

# Words of running text per kind: the body without table rows and the lines of a form
# to tick (☐), split on white space. A form or table is as long as its content needs; the
# text around it is what a reader reads. The floor is what a kind needs to be usable,
# the ceiling keeps an aid from growing into a workshop.
# content/README.md states the same table for authors.
WORDS_PER_KIND: dict[str, tuple[int, int]] = {
    "checkliste": (200, 700),
    "vorlage": (200, 800),
    "leitfaden": (350, 750),
    "methode": (400, 800),
    "software": (300, 900),
}


def text_words(body: str) -> int:
    """Words of running text: table rows, tick lines (☐) and dotted blanks left out."""
    lines = [
        line for line in body.splitlines() if not line.lstrip().startswith("|") and "☐" not in line
    ]
    return sum(1 for w in " ".join(lines).split() if not set(w) <= set("…_.-#*"))


def example_blocks(body: str) -> tuple[str, list[str]]:
    """Split a body into the text outside examples and the example blocks. An example
    block starts with a paragraph that opens with "Beispiel:" and runs to the next
    heading: concrete people in it have a gender ("die Mentorin"), generic roles do not."""
    outside: list[str] = []
    examples: list[str] = []
    current = outside
    for paragraph in re.split(r"\n\s*\n", body):
        stripped = paragraph.strip()
        if stripped.startswith("#"):
            current = outside
        elif EXAMPLE_OPENER.match(stripped):
            current = examples
            examples.append("")
        if current is examples:
            examples[-1] += stripped + "\n\n"
        else:
            outside.append(stripped)
    return "\n\n".join(outside), examples


def lone_role_names(text: str) -> list[tuple[int, str]]:
    """(position, phrase) of every generic role name used alone in ``text``."""
    for pair in ROLE_PAIRS:
        text = pair.sub(lambda m: " " * len(m.group(0)), text)
    return [(m.start(), m.group(0)) for m in LONE_ROLE.finditer(text)]


def _context(text: str, at: int, phrase: str) -> str:
    return " ".join(text[max(0, at - 50) : at + len(phrase) + 30].split())


# -- the checker itself -----------------------------------------------------------------------


def test_the_role_rule_allows_pairs_and_catches_a_lone_generic_form() -> None:
    allowed = (
        "Die Lotsin oder der Lotse fragt nach. Sprechen Sie mit der Lotsin oder dem Lotsen. "
        "Lotsinnen und Lotsen, Mentorinnen und Mentoren, die Mentorin oder den Mentor. "
        "Die Inhaberin oder der Inhaber und die oder der Auszubildende. Die Mentor-Seite."
    )
    assert lone_role_names(allowed) == []
    assert lone_role_names("Der Lotse fragt nach.") == [(4, "Lotse")]
    assert lone_role_names("Fragen Sie den Mentor.") == [(15, "Mentor")]
    assert lone_role_names("Danach spricht der Auszubildende.") == [(15, "der Auszubildende")]
    # The plural genitive is no generic singular.
    assert lone_role_names("der Ausbildungsplan der Auszubildenden") == []


def test_the_mentee_rule_catches_mentee_person_and_nothing_else() -> None:
    caught = "Die Mentee-Person tippt. Zwei Mentee-Personen. Der mentee-person."
    assert [m.group(0) for m in MENTEE_PERSON.finditer(caught)] == [
        "Mentee-Person",
        "Mentee-Personen",
        "mentee-person",
    ]
    allowed = "Der Mentee tippt, die Tandem-Person schaut zu; des Mentees, die Mentees."
    assert MENTEE_PERSON.search(allowed) is None


def test_examples_are_split_off_until_the_next_heading() -> None:
    body = (
        "## Wozu\n\nDer Mentee lernt.\n\n**Beispiel:** Die Mentorin zeigt es.\n\n"
        "Dann übt er.\n\n## Worauf achten\n\nText."
    )
    outside, examples = example_blocks(body)
    assert "Die Mentorin" not in outside
    assert "Text." in outside
    assert examples == ["**Beispiel:** Die Mentorin zeigt es.\n\nDann übt er.\n\n"]


# -- the rules on every shipped entry -----------------------------------------------------


def test_no_entry_uses_a_forbidden_example_opener(shipped_content_set: ContentSet) -> None:
    found = [
        f"{e.source_path}: „{_context(e.body_markdown, m.start(), m.group(0))}“"
        for e in _published(shipped_content_set)
        for m in FORBIDDEN_OPENERS.finditer(e.body_markdown)
    ]
    assert found == [], "examples start with „Beispiel:“:\n" + "\n".join(found)


def test_every_example_section_opens_with_beispiel(shipped_content_set: ContentSet) -> None:
    found = []
    for e in _published(shipped_content_set):
        for section in re.findall(r"^## Beispiel\s*\n+(.+)", e.body_markdown, re.MULTILINE):
            if not EXAMPLE_OPENER.match(section):
                found.append(f"{e.source_path}: „{section[:60]}“")
    assert found == [], "an example section starts with „Beispiel:“:\n" + "\n".join(found)


def test_role_names_are_paired_outside_examples(shipped_content_set: ContentSet) -> None:
    found = []
    for e in _published(shipped_content_set):
        outside, _ = example_blocks(e.body_markdown)
        for where, text in (("title", e.title), ("summary", e.summary), ("body", outside)):
            for at, phrase in lone_role_names(text):
                found.append(f"{e.source_path} ({where}): „{_context(text, at, phrase)}“")
    assert found == [], "generic role name used alone (write the pair):\n" + "\n".join(found)


def test_mentee_gets_no_gendered_pronoun_outside_examples(shipped_content_set: ContentSet) -> None:
    found = []
    for e in _published(shipped_content_set):
        outside, _ = example_blocks(e.body_markdown)
        found += [
            f"{e.source_path}: „{' '.join(m.group(0).split())}“"
            for m in MENTEE_PRONOUN.finditer(outside)
        ]
    assert found == [], "rephrase without er/sein for the Mentee:\n" + "\n".join(found)


def test_the_mentee_is_called_der_mentee(shipped_content_set: ContentSet) -> None:
    found = []
    for e in _published(shipped_content_set):
        fields = [("title", e.title), ("summary", e.summary), ("duration", e.duration or "")]
        fields += [("materials", m) for m in e.materials] + [("body", e.body_markdown)]
        for where, text in fields:
            found += [
                f"{e.source_path} ({where}): „{_context(text, m.start(), m.group(0))}“"
                for m in MENTEE_PERSON.finditer(text)
            ]
    assert found == [], (
        "write „der Mentee“ (den/dem Mentee, des Mentees, die Mentees), "
        "not „Mentee-Person“:\n" + "\n".join(found)
    )


def test_entries_address_the_reader_formally(shipped_content_set: ContentSet) -> None:
    found = [
        f"{e.source_path}: „{_context(e.body_markdown, m.start(), m.group(0))}“"
        for e in _published(shipped_content_set)
        for m in INFORMAL_ADDRESS.finditer(e.body_markdown)
    ]
    assert found == [], "entries say „Sie“:\n" + "\n".join(found)


def test_every_kind_has_a_length_range(shipped_content_set: ContentSet) -> None:
    assert set(WORDS_PER_KIND) == {t.slug for t in shipped_content_set.terms("kinds")}


def test_the_readme_states_the_length_ranges_the_test_enforces() -> None:
    readme = (SHIPPED_CONTENT / "README.md").read_text(encoding="utf-8")
    stated = {
        kind: (int(low), int(high))
        for kind, low, high in re.findall(r"^\| `(\w+)` \| (\d+)–(\d+) \|$", readme, re.MULTILINE)
    }
    assert stated == WORDS_PER_KIND


def test_entry_length_is_within_the_range_of_its_kind(shipped_content_set: ContentSet) -> None:
    found = []
    for e in _published(shipped_content_set):
        low, high = WORDS_PER_KIND[e.kind]
        words = text_words(e.body_markdown)
        if not low <= words <= high:
            found.append(f"{e.source_path}: {words} words, {e.kind} allows {low}–{high}")
    assert found == [], "\n".join(found)
