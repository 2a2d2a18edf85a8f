"""Hypothesis strategies for rule set documents (playbooks), valid and invalid, for reuse in tests.

``playbooks()`` draws a full rule set as the mapping YAML would load; ``child_playbooks()`` a
child rule set extending the built-in ``mtss`` with partial overrides of its entries. Each draws
some documents broken on purpose (wrong types, unknown keys, bad cadence names, bad ids), so a
test sees both verdicts.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

__all__ = ["BREAKAGES", "child_playbooks", "playbooks"]

_IDS = st.from_regex(r"\A[a-z][a-z0-9_-]{0,8}\Z")
_BAD_IDS = st.sampled_from(["Tier", "1st", "", "a b", "ü"])
_CADENCES = st.one_of(
    st.sampled_from(["daily", "weekly", "biweekly", "monthly"]),
    st.builds(lambda n: {"every_school_days": n}, st.integers(1, 200)),
    st.builds(lambda n: {"every_weeks": n}, st.integers(1, 52)),
    st.just({"rrule": "FREQ=WEEKLY;BYDAY=MO"}),
)
_BAD_CADENCES = st.one_of(
    st.sampled_from(["weekly!", "fortnightly", "", "Weekly"]),
    st.builds(lambda n: {"every_weeks": n}, st.integers(53, 99)),
    st.builds(lambda n: {"every_school_days": n}, st.integers(-5, 0)),
    st.just({"every_weeks": 1, "every_school_days": 2}),
    st.just({}),
    st.just(7),
)
BREAKAGES = (
    "wrong_type",
    "unknown_key",
    "bad_cadence",
    "bad_id",
    "bad_level",
)
"""The ways a drawn document is broken on purpose (none: valid as far as the schema goes)."""


def _tier(entry_id: str, level: int) -> dict[str, Any]:
    return {"id": entry_id, "level": level, "when": "days_absent > 3"}


def _intervention(entry_id: str, tier: str, cadence: Any) -> dict[str, Any]:
    return {"id": entry_id, "tier": tier, "owner": "counselor", "cadence": cadence}


@st.composite
def _break(draw: st.DrawFn, doc: dict[str, Any], entry: dict[str, Any]) -> None:
    how = draw(st.sampled_from(BREAKAGES))
    if how == "wrong_type":
        key = draw(st.sampled_from(sorted(entry)))
        entry[key] = draw(st.sampled_from([[1], {"x": 1}, True, None])) if key != "id" else 3
    elif how == "unknown_key":
        target = draw(st.sampled_from([doc, entry]))
        target[draw(st.sampled_from(["colour", "tierz", "whenn"]))] = "x"
    elif how == "bad_cadence":
        entry["cadence"] = draw(_BAD_CADENCES)
    elif how == "bad_id":
        entry["id"] = draw(_BAD_IDS)
    else:
        entry["level"] = draw(st.sampled_from([0, 10, "two", 2.5]))


@st.composite
def playbooks(draw: st.DrawFn) -> dict[str, Any]:
    """Draw a full rule set: valid, or broken in one of :data:`BREAKAGES`."""
    tier_ids = draw(st.lists(_IDS, min_size=1, max_size=3, unique=True))
    doc: dict[str, Any] = {
        "id": draw(_IDS),
        "name": "Drawn district",
        "version": draw(st.sampled_from(["2025.1", 2025.1, 3])),
        "tiers": [_tier(t, i + 1) for i, t in enumerate(tier_ids)],
        "interventions": [
            _intervention(f"i{k}", draw(st.sampled_from(tier_ids)), draw(_CADENCES))
            for k in range(draw(st.integers(0, 3)))
        ],
    }
    if draw(st.booleans()):
        entries = doc["tiers"] + doc["interventions"]
        entry = draw(st.sampled_from(entries))
        if "cadence" not in entry and "level" not in entry:
            entry["level"] = 1
        draw(_break(doc, entry))
    return doc


@st.composite
def child_playbooks(draw: st.DrawFn) -> dict[str, Any]:
    """Draw a child of the built-in ``mtss``: partial overrides, removals and new entries."""
    doc: dict[str, Any] = {"extends": "mtss", "id": draw(_IDS), "name": "Child", "version": "1"}
    tiers: list[dict[str, Any]] = []
    for tier_id in draw(st.lists(st.sampled_from(["tier1", "tier2", "tier3"]), unique=True)):
        kind = draw(st.sampled_from(["label", "level", "remove"]))
        override: dict[str, Any] = {"id": tier_id}
        if kind == "label":
            override["label"] = "Renamed"
        elif kind == "level":
            override["level"] = draw(st.integers(1, 9))
        else:
            override["remove"] = True
        tiers.append(override)
    if tiers:
        doc["tiers"] = tiers
    if draw(st.booleans()) and tiers:
        draw(_break(doc, draw(st.sampled_from(tiers))))
    return doc
