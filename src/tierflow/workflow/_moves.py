"""School years and moves: rollover at a year's start, transfers and students who left."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from tierflow.workflow._core import Core, Recall, school_of
from tierflow.workflow._records import Intervention, Plan, Unassigned, WorkflowEvent

__all__ = ["Moves"]


class Moves(Core):
    """The engine's part that carries casework across school years and schools."""

    def _rollover(
        self,
        as_of: dt.date,
        sid: str,
        recall: Recall,
        snapshot: Any,
        plan: Plan,
        open_ivs: list[Intervention],
    ) -> bool:
        """Apply the rule set's ``school_year.rollover`` once, when a new school year starts.

        Open interventions opened before the year's first day are carried into it (one
        ``rollover`` event lists them), closed with the year as the reason, or closed so this
        year's decisions open again what is still warranted (``restart``). Legal steps reported
        due last year and never issued are withdrawn: the ladder starts again this year. Return
        whether anything was recorded.
        """
        year = self.ruleset.school_years.of(as_of)
        if year.label in recall.rolled:
            return False
        old = [iv for iv in open_ivs if iv.opened_on < year.start]
        steps = sorted(s for s, on in recall.reported.items() if on < year.start)
        if not (old or steps):
            return False
        policy = self.ruleset.spec.school_year.rollover
        ended = f"school year {self.ruleset.school_years.previous(year)} ended"
        for step in steps:
            why = f"{step} was reported due on {recall.reported[step]} and not issued; "
            why += f"{ended}, and the ladder starts again in school year {year}"
            self._withdraw_step(as_of, sid, step, why, snapshot, plan, school_year=year.label)
        if policy != "carry":
            for iv in old:
                why = f"{ended}: the rule set closes open interventions at the year's start"
                if policy == "restart":
                    why += " and opens again this year what is still warranted"
                self._fire(
                    iv,
                    "close",
                    as_of,
                    "tierflow",
                    why,
                    snapshot,
                    {"rollover": policy, "school_year": year.label},
                )
                plan.rolled_over.append(iv)
        else:
            plan.rolled_over.extend(old)
        self._record(
            WorkflowEvent(
                0,
                as_of,
                sid,
                "rollover",
                why=f"school year {year} started: {len(old)} open intervention(s) "
                + {"carry": "carried into it", "close": "closed", "restart": "closed to restart"}[
                    policy
                ]
                + (f"; {len(steps)} unissued legal step(s) withdrawn" if steps else ""),
                ruleset=self.ruleset.ref,
                facts=snapshot,
                detail={
                    "year": year.label,
                    "rollover": policy,
                    "interventions": [iv.id for iv in old],
                    "steps": steps,
                },
            )
        )
        return True

    def _moved(
        self,
        as_of: dt.date,
        sid: str,
        facts: Mapping[str, Any],
        snapshot: Any,
        plan: Plan,
        recall: Recall,
        open_ivs: list[Intervention],
    ) -> bool:
        """Move open casework with a student who changed school, or end it when they left.

        A student whose facts name another school than an open intervention's is a transfer
        within the district: by the rule set's ``transfers.cases`` the intervention is
        reassigned to someone of its role at the new school (unassigned when nobody there has
        room) or keeps its owner; either way it now belongs to the new school and a
        ``transferred`` event says from where, to where and who owns it. A student whose facts
        say ``enrolled: false`` left the district: by ``transfers.on_leaving`` open
        interventions are closed with that reason or held open (one ``left`` event). Return
        whether anything was recorded.
        """
        rules = self.ruleset.spec.transfers
        new_school = school_of(facts)
        if not open_ivs:
            return False
        if facts.get("enrolled") is False:
            if rules.on_leaving == "hold":
                if all(iv.id in recall.held for iv in open_ivs):
                    return False
                self._record(
                    WorkflowEvent(
                        0,
                        as_of,
                        sid,
                        "left",
                        why=f"no longer enrolled as of {as_of}: {len(open_ivs)} open "
                        "intervention(s) held for their owners to decide",
                        ruleset=self.ruleset.ref,
                        facts=snapshot,
                        detail={"interventions": [iv.id for iv in open_ivs], "action": "hold"},
                    )
                )
                return True
            for iv in open_ivs:
                self._fire(
                    iv,
                    "close",
                    as_of,
                    "tierflow",
                    f"the student is no longer enrolled as of {as_of} (left the district)",
                    snapshot,
                    {"left": True},
                )
                plan.left.append(iv)
            return True
        moved = False
        for iv in open_ivs:
            if new_school is None or iv.school_id is None or iv.school_id == new_school:
                continue
            before_owner, before_school = iv.owner, iv.school_id
            owner = before_owner
            if rules.cases == "reassign":
                roster = self._school_roster(new_school)  # counted while the case is the old
                self._release(before_owner)  # owner's: a count after the move would miss it
                owner = roster.assign(new_school, iv.owner_role)
            self._save(iv, school_id=new_school, owner=owner)
            who = owner or "nobody (unassigned)"
            self._record(
                WorkflowEvent(
                    0,
                    as_of,
                    sid,
                    "transferred",
                    iv.id,
                    why=f"the student moved from school {before_school} to {new_school}; "
                    + (
                        f"reassigned from {before_owner or 'nobody'} to {who} ({iv.owner_role})"
                        if rules.cases == "reassign"
                        else f"kept with {before_owner or 'nobody'} as the rule set says"
                    ),
                    ruleset=self.ruleset.ref,
                    facts=snapshot,
                    detail={
                        "from_school": before_school,
                        "to_school": new_school,
                        "from_owner": before_owner,
                        "to_owner": owner,
                        "role": iv.owner_role,
                    },
                )
            )
            plan.transferred.append(iv)
            if owner is None:
                why = self._school_roster(new_school).why_unassigned(new_school, iv.owner_role)
                plan.unassigned.append(Unassigned(sid, iv.id, iv.owner_role, new_school, why))
            moved = True
        return moved
