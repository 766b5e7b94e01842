"""The checks of one questionnaire definition that span fields, which a Struct cannot
make alone: unique ids, known perspectives, scales and dimensions, item types and their
options, scores, bands without gaps, recommended entries that exist, the matching
section. Conditions (``visible_if``) are checked by ``core.quickcheck.conditions``.
"""

from __future__ import annotations

from typing import Any

from core.content.model import Problem
from core.content.yamlfile import format_path, line_of
from core.quickcheck.conditions import ConditionChecks, Path_
from core.quickcheck.model import (
    CHOICE_TYPES,
    DEFAULT_LANGUAGE,
    SCORED_TYPES,
    SINGLE_CODE_TYPES,
    UNKNOWN_CODE,
    Band,
    Criterion,
    Item,
    Matching,
    Questionnaire,
    Text,
)


class Checker:
    """The cross-field checks of one definition."""

    def __init__(
        self, definition: Questionnaire, root: Any, shown: str, entry_slugs: set[str]
    ) -> None:
        self.d = definition
        self.root = root
        self.shown = shown
        self.entry_slugs = entry_slugs
        self.problems: list[Problem] = []
        self.perspectives = {p.id for p in definition.perspectives}
        self.scales = {s.id: s for s in definition.scales}
        self.dimensions = {d.id for d in definition.dimensions}
        self.items = {i.id: i for i in definition.items}
        self.conditions = ConditionChecks(self.problem, self.items, self.codes)

    def problem(self, path: Path_, message: str) -> None:
        self.problems.append(
            Problem(
                file=self.shown,
                field=format_path(path) or None,
                line=line_of(self.root, path, 0),
                message=message,
            )
        )

    def run(self) -> list[Problem]:
        d = self.d
        self.text(["title"], d.title)
        self.text(["description"], d.description)
        self.text(["intro"], d.intro)
        self.unique([p.id for p in d.perspectives], "perspectives", "perspective id")
        for i, p in enumerate(d.perspectives):
            self.text(["perspectives", i, "label"], p.label)
            self.text(["perspectives", i, "intro"], p.intro)
        self.unique([s.id for s in d.scales], "scales", "scale id")
        for i, s in enumerate(d.scales):
            self.options(["scales", i], s.options)
        self.unique([dim.id for dim in d.dimensions], "dimensions", "dimension id")
        self.unique([item.id for item in d.items], "items", "item id")
        earlier: dict[str, Item] = {}
        for index, item in enumerate(d.items):
            self.item(["items", index], item, earlier)
            earlier.setdefault(item.id, item)
        self.scoring()
        if d.matching is not None:
            if d.purpose != "profile":
                self.problem(["matching"], "only a questionnaire with purpose: profile matches")
            self.matching(["matching"], d.matching)
        elif d.purpose == "profile":
            self.problem(["purpose"], "a profile questionnaire needs a matching: section")
        return self.problems

    # -- pieces ---------------------------------------------------------------------------

    def text(self, path: Path_, text: Text | None) -> None:
        if isinstance(text, dict) and DEFAULT_LANGUAGE not in text:
            self.problem(path, "a text in several languages needs a German version (de: ...)")

    def unique(self, values: list[str], where: str, what: str) -> None:
        seen: set[str] = set()
        for index, value in enumerate(values):
            if value in seen:
                self.problem([where, index, "id"], f"duplicate {what} {value!r}")
            seen.add(value)

    def options(self, path: Path_, options: list[Any]) -> None:
        seen: set[str] = set()
        for index, option in enumerate(options):
            where = [*path, "options", index, "code"]
            if option.code == UNKNOWN_CODE:
                self.problem(
                    where,
                    f"the code {UNKNOWN_CODE!r} is reserved; set allow_unknown: true to offer "
                    "'keine Angabe / weiß nicht'",
                )
            elif option.code in seen:
                self.problem(where, f"duplicate option code {option.code!r}")
            seen.add(option.code)
            self.text([*path, "options", index, "label"], option.label)

    def item(self, path: Path_, item: Item, earlier: dict[str, Item]) -> None:
        self.text([*path, "text"], item.text)
        self.text([*path, "help"], item.help)
        for perspective, wording in item.wording.items():
            if perspective not in self.perspectives:
                self.problem(
                    [*path, "wording", perspective],
                    f"unknown perspective {perspective!r}; expected one of: "
                    f"{', '.join(sorted(self.perspectives))}",
                )
            self.text([*path, "wording", perspective], wording)
        for index, perspective in enumerate(item.perspectives or []):
            if perspective not in self.perspectives:
                self.problem(
                    [*path, "perspectives", index],
                    f"unknown perspective {perspective!r}; expected one of: "
                    f"{', '.join(sorted(self.perspectives))}",
                )
        if item.dimension is not None and item.dimension not in self.dimensions:
            self.problem(
                [*path, "dimension"],
                f"unknown dimension {item.dimension!r}; expected one of: "
                f"{', '.join(sorted(self.dimensions)) or '(none defined)'}",
            )
        self.item_type(path, item)
        if item.visible_if is not None:
            self.conditions.condition([*path, "visible_if"], item.visible_if, item, earlier)

    def item_type(self, path: Path_, item: Item) -> None:
        t = item.type
        if t == "likert":
            if item.scale is None:
                self.problem([*path, "scale"], "a likert item names a scale (scales: [...])")
            elif item.scale not in self.scales:
                self.problem(
                    [*path, "scale"],
                    f"unknown scale {item.scale!r}; expected one of: "
                    f"{', '.join(sorted(self.scales)) or '(none defined)'}",
                )
            if item.options:
                self.problem([*path, "options"], "a likert item takes its options from its scale")
        elif t in CHOICE_TYPES:
            if len(item.options) < 2:
                self.problem([*path, "options"], f"a {t} item needs at least two options")
            if item.scale is not None:
                self.problem([*path, "scale"], "only likert items use a scale")
            self.options(path, item.options)
        else:
            if item.options or item.scale is not None:
                self.problem([*path, "options"], f"a {t} item has no options")
        if item.allow_unknown and t not in CHOICE_TYPES - {"ranking"}:
            self.problem(
                [*path, "allow_unknown"],
                "'keine Angabe' is offered by single_choice, likert, yes_no and "
                "multiple_choice items only (others can be left unanswered if not required)",
            )
        if t in {"multiple_choice", "ranking"}:
            count = len(item.options)
            if item.max_choices is not None and item.max_choices > count:
                self.problem([*path, "max_choices"], f"is more than the {count} options")
            if (
                item.min_choices is not None
                and item.max_choices is not None
                and item.min_choices > item.max_choices
            ):
                self.problem([*path, "min_choices"], "is more than max_choices")
        elif item.min_choices is not None or item.max_choices is not None:
            self.problem([*path, "max_choices"], "only multiple_choice and ranking items use it")
        if t == "number":
            if item.min is not None and item.max is not None and item.min >= item.max:
                self.problem([*path, "min"], "must be less than max")
            if item.dimension is not None and (item.min is None or item.max is None):
                self.problem(
                    [*path, "dimension"],
                    "a scored number item needs min and max (they map onto 0–100)",
                )
        elif item.min is not None or item.max is not None:
            self.problem([*path, "min"], "only number items have min and max")
        if item.dimension is not None and t not in SCORED_TYPES:
            self.problem(
                [*path, "dimension"],
                f"{t} items are not scored; remove dimension (ranking items are counted in the "
                "statistics instead)",
            )
        if item.dimension is None and item.reverse:
            self.problem([*path, "reverse"], "only scored items (with a dimension) are reversed")
        # A likert item without a known scale already has its problem; say nothing of scores.
        if (
            item.dimension is not None
            and t in CHOICE_TYPES
            and (t != "likert" or item.scale in self.scales)
        ):
            options = self.choice_options(item)
            where = [*path, "scale"] if t == "likert" else [*path, "options"]
            if any(o.score is None for o in options):
                self.problem(where, "every option of a scored item needs a score")
            elif t in SINGLE_CODE_TYPES and len({o.score for o in options}) < 2:
                self.problem(where, "a scored item needs at least two different option scores")
            elif t == "multiple_choice" and not any((o.score or 0) > 0 for o in options):
                self.problem(where, "a scored multiple_choice item needs a positive score")

    def choice_options(self, item: Item) -> list[Any]:
        if item.type == "likert":
            scale = self.scales.get(item.scale or "")
            return list(scale.options) if scale else []
        return list(item.options)

    def codes(self, item: Item) -> set[str]:
        codes = {o.code for o in self.choice_options(item)}
        return codes | {UNKNOWN_CODE} if item.allow_unknown else codes

    def scoring(self) -> None:
        d = self.d
        scored = {i.dimension for i in d.items if i.dimension is not None}
        for index, dim in enumerate(d.dimensions):
            path: Path_ = ["dimensions", index]
            self.text([*path, "title"], dim.title)
            self.text([*path, "description"], dim.description)
            if dim.id not in scored:
                self.problem([*path, "id"], f"no item scores the dimension {dim.id!r}")
            if not dim.bands:
                self.problem([*path, "bands"], "a dimension needs bands covering 0–100")
            self.bands([*path, "bands"], dim.bands)
        if d.dimensions and not d.bands:
            self.problem(["bands"], "the overall result needs bands covering 0–100")
        self.bands(["bands"], d.bands)

    def bands(self, path: Path_, bands: list[Band]) -> None:
        expected = 0.0
        for index, band in enumerate(bands):
            where: Path_ = [*path, index]
            if band.from_ != expected:
                kind = "a gap" if band.from_ > expected else "an overlap"
                self.problem(
                    [*where, "from"],
                    f"starts at {band.from_:g} but the previous band ends at {expected:g} "
                    f"({kind}); bands must cover 0–100 in order without gap or overlap",
                )
            if band.to <= band.from_:
                self.problem([*where, "to"], "must be greater than from")
            expected = band.to
            self.text([*where, "title"], band.title)
            self.text([*where, "text"], band.text)
            self.recommendations([*where, "recommendations"], band.recommendations)
            for perspective, wording in band.for_perspective.items():
                at: Path_ = [*where, "for_perspective", perspective]
                if perspective not in self.perspectives:
                    self.problem(
                        at,
                        f"unknown perspective {perspective!r}; expected one of: "
                        + ", ".join(sorted(self.perspectives)),
                    )
                self.text([*at, "title"], wording.title)
                self.text([*at, "text"], wording.text)
                self.recommendations([*at, "recommendations"], wording.recommendations or [])
        if bands and expected != 100:
            self.problem(
                [*path, len(bands) - 1, "to"],
                f"the last band ends at {expected:g}; it must end at 100",
            )

    def recommendations(self, path: Path_, slugs: list[str]) -> None:
        if len(set(slugs)) != len(slugs):
            self.problem(path, "an entry is recommended twice; name each entry once")
        for r, slug in enumerate(slugs):
            if slug not in self.entry_slugs:
                self.problem(
                    [*path, r],
                    f"no published entry has the slug {slug!r}; recommend existing entries "
                    "(the file name without .md)",
                )

    def matching(self, path: Path_, m: Matching) -> None:
        for key in ("mentor", "mentee"):
            if getattr(m, key) not in self.perspectives:
                self.problem(
                    [*path, key],
                    f"unknown perspective {getattr(m, key)!r}; expected one of: "
                    f"{', '.join(sorted(self.perspectives))}",
                )
        self.unique([c.id for c in m.criteria], "criteria", "criterion id")
        for index, c in enumerate(m.criteria):
            where: Path_ = [*path, "criteria", index]
            self.text([*where, "title"], c.title)
            if c.marking is not None and c.rule != "different":
                self.problem(
                    [*where, "marking"], "only a criterion with rule: different uses a marking"
                )
            if c.rule in ("overlap", "reverse_overlap"):
                for key in ("mentor_item", "mentee_item"):
                    self.criterion_item([*where, key], getattr(c, key), {"multiple_choice"})
                mentor = self.items.get(c.mentor_item or "")
                mentee = self.items.get(c.mentee_item or "")
                if mentor and mentee and not self.codes(mentor) & self.codes(mentee):
                    self.problem(where, "the two items share no option code to overlap on")
            elif c.rule == "windows":
                self.windows(where, c)
            elif c.rule in ("same", "different"):
                self.criterion_item([*where, "item"], c.item, {"single_choice", "yes_no"})
                target = self.items.get(c.item or "")
                for p, pair in enumerate(c.compatible):
                    for code in pair:
                        if target and code not in self.codes(target):
                            self.problem(
                                [*where, "compatible", p],
                                f"{code!r} is not an option code of {target.id!r}",
                            )
            else:  # similarity
                if not c.items:
                    self.problem([*where, "items"], "name the likert items to compare")
                for i, item_id in enumerate(c.items):
                    self.criterion_item([*where, "items", i], item_id, {"likert"})
        for index, x in enumerate(m.exclusions):
            where = [*path, "exclusions", index]
            self.text([*where, "title"], x.title)
            self.text([*where, "text"], x.text)
            target = self.items.get(x.item)
            if target is None:
                self.problem([*where, "item"], f"unknown item {x.item!r}")
                continue
            for c_index, code in enumerate(x.codes):
                if code not in self.codes(target):
                    self.problem(
                        [*where, "codes", c_index], f"{code!r} is not an option code of {x.item!r}"
                    )
        if not m.bands:
            self.problem([*path, "bands"], "the fit score needs bands covering 0–100")
        self.bands([*path, "bands"], m.bands)

    def windows(self, where: Path_, c: Criterion) -> None:
        """Every answer of ``item`` maps to known slots; the days and notes name real codes."""
        self.criterion_item([*where, "item"], c.item, {"single_choice"})
        slot_codes = [s.code for s in c.slots]
        if not slot_codes:
            self.problem([*where, "slots"], "name the time slots of the day")
        self.unique(slot_codes, "slots", "slot code")
        for index, option in enumerate(c.slots):
            self.text([*where, "slots", index, "label"], option.label)
        target = self.items.get(c.item or "")
        answers = {o.code for o in self.choice_options(target)} if target else set()
        for code, slots in c.windows.items():
            if target and code not in answers:
                self.problem(
                    [*where, "windows", code], f"{code!r} is not an option code of {target.id!r}"
                )
            for slot in slots:
                if slot not in slot_codes:
                    self.problem([*where, "windows", code], f"{slot!r} is not one of the slots")
        for code in sorted(answers - set(c.windows)):
            self.problem([*where, "windows"], f"option {code!r} of {c.item!r} has no time slots")
        for index, code in enumerate(c.rotating):
            if code not in c.windows:
                self.problem([*where, "rotating", index], f"{code!r} is not a key of windows")
        if c.days_item is not None:
            self.criterion_item([*where, "days_item"], c.days_item, {"multiple_choice"})
        for index, note in enumerate(c.notes):
            self.text([*where, "notes", index, "text"], note.text)
            noted = self.items.get(note.item)
            if noted is None:
                self.problem([*where, "notes", index, "item"], f"unknown item {note.item!r}")
                continue
            for code in note.codes:
                if code not in self.codes(noted):
                    self.problem(
                        [*where, "notes", index, "codes"],
                        f"{code!r} is not an option code of {note.item!r}",
                    )

    def criterion_item(self, path: Path_, item_id: str | None, types: set[str]) -> None:
        if item_id is None:
            self.problem(path, "required for this rule")
            return
        item = self.items.get(item_id)
        if item is None:
            self.problem(path, f"unknown item {item_id!r}")
        elif item.type not in types:
            self.problem(
                path,
                f"{item_id!r} is a {item.type} item; this rule needs {' or '.join(sorted(types))}",
            )
