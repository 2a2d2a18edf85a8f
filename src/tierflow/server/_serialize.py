"""A decision's JSON line, written from pieces cached per outcome and per item.

A batch's answer is one JSON line a student. Building it with ``Decision.to_dict()`` and
``json.dumps`` cost about ten times the evaluation itself (34 µs against 3.4 µs a student on
``ca``): every line rebuilt the same dictionaries of the same interventions and legal steps.
Students share outcomes (20,000 generated students under ``ca`` had 1,230 distinct ones), so
:class:`DecisionLines` keeps each outcome's JSON and writes only the student's id, the date and
the record's source per line.

An outcome seen for the first time is put together from JSON kept per piece: the rule set and
tier part per shared outcome (rule sets share one tuple of interventions among every student
with the same result), each intervention as assigned (by value: id and who assigned it), and
the legal steps per distinct tuple. Writing a new outcome once cost about 150 µs (``asdict``
copies every nested value); from the pieces it is a join.

Every piece is the same JSON ``json.dumps`` writes of :meth:`Decision.to_dict`'s parts (the
same functions build them): a student id or a source with quotes, backslashes or line breaks
is escaped as ``json.dumps`` escapes it anywhere else. Masked (a caller without the
``personal`` scope), each piece is masked by the same :class:`~tierflow.server._privacy.Masker`
that masks every other answer (masking is per key, so masking the pieces is masking the
whole), and the student id is its pseudonym. A test checks the lines against ``json.dumps`` of
the masked ``to_dict()`` on generated students of every built-in rule set.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, TypeVar

from tierflow.evaluate import AssignedIntervention, Decision, LegalAction
from tierflow.evaluate._decision import intervention_dict, legal_dict
from tierflow.server._privacy import Masker

__all__ = ["DecisionLines"]

_quoted = json.encoder.encode_basestring_ascii  # what json.dumps(text) runs, minus its frames

_MOST = 4096
"""Entries kept at most in each cache; past it that cache starts again (a bound on memory)."""

_V = TypeVar("_V")


def _keep(cache: dict[Any, _V], key: Any, value: _V) -> _V:
    """Put ``value`` in ``cache`` under ``key`` (emptying a full cache first); return it."""
    if len(cache) >= _MOST:
        cache.clear()
    cache[key] = value
    return value


class DecisionLines:
    """Writes ``{"source": ..., "decision": {...}}`` lines, for any batch of any rule set.

    One writer serves every batch of a server with the same masking: its caches hold only
    JSON that depends on their keys (an outcome held by identity, an intervention or legal
    step by value, a date), so batches in different threads may share it (a cache filled
    twice by two threads holds the same text), and a batch after the first finds its
    outcomes written (a batch of 1,000 students wrote its lines in 4.5 µs a student with a
    new writer, 0.6 µs with one that had seen them).

    Args:
        masker: Mask personal data (no ``personal`` scope), or None to show it.
    """

    def __init__(self, masker: Masker | None) -> None:
        self._masker = masker
        self._items: dict[AssignedIntervention, str] = {}
        self._actions: dict[LegalAction, str] = {}
        self._legal: dict[tuple[LegalAction, ...], str] = {}
        self._legal_by_id: dict[int, tuple[Any, str]] = {}
        # A decision's shared outcome (its tier, rules and interventions, of one rule set) to
        # its head: one lookup a line where most students share a handful of outcomes. Keyed
        # by id(), holding the outcome itself so that an id is never reused while kept.
        self._by_outcome: dict[int, tuple[Any, str]] = {}
        self._dates: dict[Any, str] = {}

    def _json(self, value: Any) -> str:
        return json.dumps(value if self._masker is None else self._masker.mask(value))

    def _intervention(self, item: AssignedIntervention) -> str:
        text = self._items.get(item)  # by value: each outcome has its own objects
        if text is None:
            text = _keep(self._items, item, self._json(intervention_dict(item)))
        return text

    def _action(self, action: LegalAction) -> str:
        text = self._actions.get(action)  # by value: a student's history makes new ones
        if text is None:
            text = _keep(self._actions, action, self._json(legal_dict(action)))
        return text

    def _head(self, decision: Decision) -> str:
        """``"ruleset": ..., "interventions": [...], "legal_actions": ``, of an outcome."""
        return (
            f'"ruleset": {self._json(asdict(decision.ruleset))}, '
            f'"tier": {self._json(decision.tier)}, '
            f'"tier_level": {self._json(decision.tier_level)}, '
            f'"rules": {self._json(list(decision.rules))}, "interventions": ['
            + ", ".join(self._intervention(i) for i in decision.interventions)
            + '], "legal_actions": '
        )

    def _legal_actions(self, actions: tuple[LegalAction, ...]) -> str:
        """``[...]}``: the legal steps and the decision's end, per distinct tuple."""
        entry = self._legal_by_id.get(id(actions))
        if entry is not None and entry[0] is actions:  # shared by students with no history
            return entry[1]
        text = self._legal.get(actions)
        if text is None:
            text = _keep(self._legal, actions, "[" + ", ".join(map(self._action, actions)) + "]}")
        _keep(self._legal_by_id, id(actions), (actions, text))
        return text

    def line(self, source: str, decision: Decision) -> str:
        """The record's line, ending in a newline: the same JSON as ``json.dumps`` writes."""
        sid = decision.student_id
        if self._masker is not None:
            sid = self._masker.pseudonym(sid)
        date = self._dates.get(decision.as_of)
        if date is None:  # usually one date a batch: written once
            date = _keep(self._dates, decision.as_of, f'"as_of": "{decision.as_of.isoformat()}", ')
        outcome = decision._outcome
        entry = self._by_outcome.get(id(outcome))
        if entry is None or entry[0] is not outcome:
            entry = _keep(self._by_outcome, id(outcome), (outcome, self._head(decision)))
        actions = decision.legal_actions
        return (
            f'{{"source": {_quoted(source)}, "decision": {{"student_id": {_quoted(sid)}, '
            f"{date}{entry[1]}"
            f"{self._legal_actions(actions) if actions else '[]}'}}}\n"
        )
