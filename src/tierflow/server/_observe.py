"""What a server tells its operators: Prometheus metrics and the decision log.

Metrics live in a registry of the app's own (two apps in one process count apart):
``tierflow_requests_total`` and ``tierflow_request_seconds`` by method, route and status,
``tierflow_evaluations_total`` and ``tierflow_rejects_total`` by rule set. The decision log
(optional, as OPA's) is JSON Lines, one line per decision: the request id, the rule set's id,
version and content hash, a SHA-256 digest of the facts (to match a decision to its input
without keeping the input), the outcome and the latency; the student id is masked unless the
server is told to log personal data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from pathlib import Path
from typing import IO, Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from tierflow.evaluate import Decision
from tierflow.server._privacy import Masker

__all__ = ["DecisionLog", "Metrics", "facts_digest"]


class Metrics:
    """The app's Prometheus metrics, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "tierflow_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "tierflow_request_seconds",
            "Time to answer a request (a streamed batch: to its last line)",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30),
        )
        self.evaluations = Counter(
            "tierflow_evaluations", "Students evaluated", ["ruleset"], registry=self.registry
        )
        self.rejects = Counter(
            "tierflow_rejects",
            "Records refused (unreadable or unevaluable)",
            ["ruleset"],
            registry=self.registry,
        )


def facts_digest(facts: Any) -> str:
    """SHA-256 of the facts as canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(facts, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


class DecisionLog:
    """Writes one JSON line per decision to a file (appended; flushed every line).

    Args:
        path: The file.
        masker: Masks the student id (None: the id is logged as it is).
    """

    def __init__(self, path: str | Path, masker: Masker | None) -> None:
        self.path = Path(path)
        self.masker = masker
        self._lock = threading.Lock()
        self._file: IO[str] | None = None

    def line(self, request_id: str, decision: Decision, facts: Any, seconds: float) -> str:
        """The log line of one decision (written by :meth:`write`)."""
        sid = decision.student_id
        entry = {
            "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
            "request_id": request_id,
            "ruleset": {
                "id": decision.ruleset.id,
                "version": decision.ruleset.version,
                "content_hash": decision.ruleset.content_hash,
            },
            "student_id": sid if self.masker is None else self.masker.pseudonym(sid),
            "facts_digest": facts_digest(facts),
            "as_of": decision.as_of.isoformat(),
            "outcome": {
                "tier": decision.tier,
                "rules": list(decision.rules),
                "interventions": [i.id for i in decision.interventions],
                "legal_due": list(decision.legal_due),
            },
            "latency_ms": round(seconds * 1000, 3),
        }
        return json.dumps(entry, separators=(",", ":")) + "\n"

    def write(self, lines: list[str]) -> None:
        """Append lines (a batch's, together) and flush."""
        if not lines:
            return
        with self._lock:
            if self._file is None:
                self._file = self.path.open("a", encoding="utf-8")
            self._file.write("".join(lines))
            self._file.flush()

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
