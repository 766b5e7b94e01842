"""The checks of one item's ``visible_if`` condition: exactly one form, references to
earlier items only, known operators, and values that fit the item compared with.

The checker of the whole definition hands in how to report a problem, the items by id
and each item's option codes, so the messages and their order stay those of one pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.quickcheck.model import OPERATORS, SINGLE_CODE_TYPES, Condition, Item

Path_ = list[str | int]


class ConditionChecks:
    """Checks conditions of one definition, reporting through ``problem``."""

    def __init__(
        self,
        problem: Callable[[Path_, str], None],
        items: dict[str, Item],
        codes: Callable[[Item], set[str]],
    ) -> None:
        self.problem = problem
        self.items = items
        self.codes = codes

    def condition(
        self, path: Path_, cond: Condition, owner: Item, earlier: dict[str, Item]
    ) -> None:
        forms = [
            name
            for name, present in (
                ("all", cond.all is not None),
                ("any", cond.any is not None),
                ("not", cond.not_ is not None),
                ("item", cond.item is not None or cond.op is not None),
            )
            if present
        ]
        if len(forms) != 1:
            self.problem(
                path,
                "a condition is exactly one of {all: [...]}, {any: [...]}, {not: {...}} or "
                "{item: ..., op: ..., value: ...}"
                + (f"; this one mixes {', '.join(forms)}" if forms else ""),
            )
            return
        if cond.all is not None or cond.any is not None:
            key = "all" if cond.all is not None else "any"
            children = cond.all if cond.all is not None else cond.any
            if not children:
                self.problem([*path, key], "needs at least one condition")
            for index, child in enumerate(children or []):
                self.condition([*path, key, index], child, owner, earlier)
            return
        if cond.not_ is not None:
            self.condition([*path, "not"], cond.not_, owner, earlier)
            return
        self.comparison(path, cond, owner, earlier)

    def comparison(
        self, path: Path_, cond: Condition, owner: Item, earlier: dict[str, Item]
    ) -> None:
        if cond.item is None:
            self.problem([*path, "item"], "required field is missing")
            return
        if cond.item == owner.id:
            self.problem([*path, "item"], "an item cannot depend on its own answer")
            return
        target = earlier.get(cond.item)
        if target is None:
            if cond.item in self.items:
                self.problem(
                    [*path, "item"],
                    f"refers to {cond.item!r}, which comes later; a condition may refer only to "
                    "earlier items",
                )
            else:
                self.problem([*path, "item"], f"unknown item {cond.item!r}")
            return
        if cond.op not in OPERATORS:
            self.problem(
                [*path, "op"],
                f"unknown operator {cond.op!r}; allowed: {', '.join(OPERATORS)}",
            )
            return
        self.comparison_value([*path, "value"], cond.op, cond.value, target)

    def comparison_value(self, path: Path_, op: str, value: Any, target: Item) -> None:
        t = target.type
        codes = self.codes(target)
        is_number = isinstance(value, int | float) and not isinstance(value, bool)

        def need(ok: bool, what: str) -> None:
            if not ok:
                self.problem(path, f"operator {op!r} on the {t} item {target.id!r} needs {what}")

        def known(code: Any) -> None:
            if isinstance(code, str) and code not in codes:
                self.problem(
                    path,
                    f"{code!r} is not an option code of {target.id!r}; expected one of: "
                    f"{', '.join(sorted(codes))}",
                )

        if op == "answered":
            need(isinstance(value, bool), "value: true or false")
        elif op in {"eq", "ne"}:
            if t in SINGLE_CODE_TYPES:
                need(isinstance(value, str), "an option code")
                known(value)
            elif t == "number":
                need(is_number, "a number")
            elif t == "text":
                need(isinstance(value, str), "a text")
            else:
                need(False, "contains (it holds a list of codes)")
        elif op in {"in", "not_in"}:
            need(t in SINGLE_CODE_TYPES, "an item with one option code (use contains for lists)")
            need(isinstance(value, list) and len(value) > 0, "a list of option codes")
            for code in value if isinstance(value, list) else []:
                known(code)
        elif op == "contains":
            need(t in {"multiple_choice", "ranking"}, "a multiple_choice or ranking item")
            need(isinstance(value, str), "an option code")
            known(value)
        else:  # gt, gte, lt, lte
            need(t == "number", "a number item")
            need(is_number, "a number")
