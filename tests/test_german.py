"""German word handling for search: compound parts, stems and the query's word forms."""

from __future__ import annotations

import pytest

from search.documents import build_document, stemmed_stop_words, stemmed_synonyms
from search.german import compound_parts, extra_terms, stem, stems, unstemmed, words
from search.understanding import _cuts, query_words, typed_words


@pytest.mark.parametrize(
    ("word", "parts"),
    [
        ("Gesichtsverlust", ("gesichts", "verlust")),
        ("Wissensdatenbank", ("wissens", "datenbank")),
        ("Zwischenbilanz", ("zwischen", "bilanz")),
        ("Urlaubsplanung", ("urlaubs", "planung")),
        ("Kompetenzstufenmodell", ("kompetenzstufen", "kompetenz", "stufen", "modell")),
    ],
)
def test_a_compound_is_cut_into_common_words(word: str, parts: tuple[str, ...]) -> None:
    assert compound_parts(word) == parts


def test_the_word_list_read_from_its_file_is_wordfreqs_small_german_list() -> None:
    """search/german.py reads wordfreq's data file itself (to leave wordfreq unimported);
    a changed file layout must not change which words the splitter knows."""
    from wordfreq import get_frequency_dict

    from search.german import _lexicon

    expected = {w for w in get_frequency_dict("de", wordlist="small") if len(w) >= 4}
    assert _lexicon() == {w for w in expected if w.isalpha()}
    assert len(_lexicon()) > 30_000


@pytest.mark.parametrize(
    "word",
    # loanword in -ing; common words whose short parts are not their meaning; a prefix
    # as first part; an ending as last part; a short word
    ["Mentoring", "Feedback", "Handwerk", "Netzwerk", "Überweisung", "Menschen", "Tandem"],
)
def test_words_that_are_not_compounds_stay_whole(word: str) -> None:
    assert compound_parts(word) == ()


def test_the_index_holds_parts_spellings_and_stems() -> None:
    assert extra_terms(["Sichere Passwörter im Handwerksbetrieb"]).split() == [
        "Passwoerter", "handwerks", "betrieb"
    ]  # fmt: skip
    assert "passwort" in stems(["Passwörter"]).split()
    # the parts' stems drop the linking s: the query "Wissen" finds the Wissensdatenbank
    assert stems(["Wissensdatenbank"]).split() == ["wissensdatenbank", "wiss", "datenbank"]


def test_the_body_reaches_the_index_as_stems_and_the_written_forms_they_lose() -> None:
    """The body is not sent (its running text cost Meilisearch half its indexing time,
    docs/SEARCH.md): every word of it is in text_stems as its stem, and in text_terms
    as written where the stem differs, so the stemmed query and the last word's prefix
    still meet it."""
    assert unstemmed(["gelernt", "habe", "Tandem", "Passwort"]) == ["habe", "Tandem"]
    body = "<p>Was ich <em>gelernt</em> habe, halte ich im Lerntagebuch fest.</p>"
    row = {
        "slug": "lerntagebuch", "title": "Lerntagebuch", "tags": ["lernen"], "search_terms": [],
        "summary": "Festhalten, was man lernt.", "body_html": body, "topics": [], "phases": [],
        "audiences": [], "kind": "method", "source": "core", "title_sort": "lerntagebuch",
        "updated_at": 0, "content_hash": "x",
    }  # fmt: skip
    doc = build_document(row)
    assert "body" not in doc
    terms, text_stems = doc["text_terms"].split(), doc["text_stems"].split()
    for word in words(["Festhalten, was man lernt.", "Was ich gelernt habe, halte ich im fest."]):
        assert stem(word) in text_stems
        assert stem(word) == word.lower() or word in terms, word
    assert {"habe", "halte", "Festhalten"} <= set(terms)
    assert "gelernt" not in terms  # its stem is the word itself: in text_stems only
    assert {"lern", "tagebuch"} <= set(text_stems)  # the compound's parts, stemmed


def test_query_words_meet_the_index_in_the_stemmed_form() -> None:
    # Inflected, umlaut-free and hyphenated forms reduce to what title_stems holds.
    assert query_words("Passwörter Passwoerter E-Rechnungen") == [
        "passwort", "passwort", "e-rechnung"
    ]  # fmt: skip
    assert query_words("wie, bitte?") == ["wie", "bitt"]
    assert query_words("  ") == []


def test_a_questions_separable_verb_meets_its_particle_again() -> None:
    # The texts write "einrichten", "festhalten"; a question splits them.
    assert query_words("Wie richte ich eine Authenticator-App ein?") == [
        "wie", "einricht", "ich", "ein", "authenticator-app"
    ]  # fmt: skip
    assert query_words("wie halte ich fest, was ich gelernt habe") == [
        "wie", "festhalt", "ich", "was", "ich", "gelernt", "hab"
    ]  # fmt: skip
    assert query_words("was schreibe ich nach jedem Treffen auf")[1] == "aufschreib"
    # Only where the particle ends a clause that a question word starts: a subordinate
    # clause has its verb last, a statement its particle anywhere.
    assert query_words("was tun, wenn der Mentee nicht mitmacht") == [
        "was", "tun", "wenn", "der", "mente", "nicht", "mitmacht"
    ]  # fmt: skip
    assert query_words("Chef hört nicht zu") == ["chef", "hort", "nicht", "zu"]
    assert query_words("wie an") == ["wie", "an"]  # too short to hold a verb
    # Typed forms stay paired with the stems (compounds are cut as typed).
    assert typed_words("wie lege ich die Urlaubskalender an") == {
        "wie": "wie", "anleg": "anlege", "ich": "ich", "die": "die",
        "urlaubskal": "urlaubskalender",
    }  # fmt: skip


def test_synonyms_and_stop_words_also_apply_to_the_stemmed_query() -> None:
    synonyms = stemmed_synonyms({"Handy": ["Smartphone"], "Smartphone": ["Handy"]})
    assert synonyms["handy"] == ["Smartphone", "smartphon"]
    assert synonyms["smartphon"] == ["Handy", "handy"]
    assert "krieg" in stemmed_stop_words(["kriegen"])


def test_a_query_compound_is_cut_as_typed_not_as_stemmed() -> None:
    # The stem of "Teamkalender" ends inside its last part; cutting that finds no parts.
    assert query_words("Teamkalender") == ["teamkal"]
    assert typed_words("Teamkalender") == {"teamkal": "teamkalender"}


def test_an_overlong_word_is_not_cut_into_thousands_of_probes() -> None:
    # Every cut costs probe queries against the engine; "x" * 5000 must cost none.
    assert _cuts("x" * 5000) == []
    assert ("urlaub", "kalend") in _cuts("urlaubskalender")
