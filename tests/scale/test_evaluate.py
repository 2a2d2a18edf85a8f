"""Facts files decided on a Dask LocalCluster of two worker processes, against one process.

Four facts files of generated students (one with a record that cannot be read) are decided by
:func:`tierflow.scale.evaluate_partitioned` on two worker processes and by
``evaluate_facts_file`` in this process, file by file: every decision and every reject must be
the same, in the same order, and both workers must have taken part.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

distributed = pytest.importorskip("distributed")

import tierflow  # noqa: E402
from tierflow._sample import generate_facts  # noqa: E402
from tierflow.errors import DataReport, TierflowError  # noqa: E402
from tierflow.pipeline import evaluate_facts_file  # noqa: E402
from tierflow.scale import evaluate_partitioned  # noqa: E402

AS_OF = dt.date(2025, 11, 3)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("partitions")
    records = [json.loads(json.dumps(f, default=str)) for f in generate_facts(800, seed=3)]
    paths = []
    for n in range(4):
        lines = [json.dumps(r) for r in records[n * 200 : (n + 1) * 200]]
        if n == 2:
            lines.insert(5, '{"student_id": "broken", "days_enrolled": "many"')  # cut short
        path = folder / f"school-{n}.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def _one_process(ruleset: str, paths: list[Path]) -> tuple[list[dict[str, Any]], list[str]]:
    compiled = tierflow.load_ruleset(ruleset)
    report = DataReport()
    decisions = [
        {"source": r.source, "decision": d.to_dict()}
        for p in paths
        for r, d in evaluate_facts_file(compiled, str(p), as_of=AS_OF, report=report)
    ]
    return decisions, [str(e) for e in report.rejects]


@pytest.mark.parametrize("ruleset", ["mtss", "ca"])
def test_two_workers_decide_as_one_process(client: Any, files: list[Path], ruleset: str) -> None:
    run = evaluate_partitioned(client, ruleset, files, as_of=AS_OF)
    decisions, rejects = _one_process(ruleset, files)
    assert run.decisions == decisions
    assert [str(e) for e in run.report.rejects] == rejects and len(rejects) == 1
    assert "school-2.jsonl:6" in rejects[0]
    assert (run.report.read, run.report.accepted) == (801, 800)
    assert [Path(p.path).name for p in run.partitions] == [p.name for p in files]
    assert len({p.worker for p in run.partitions}) == 2  # both workers decided


def test_a_rule_set_file_is_compiled_on_the_workers(
    client: Any, files: list[Path], tmp_path: Path
) -> None:
    source = Path(tierflow.load_ruleset("mtss").files[0].removesuffix(" (built-in)"))
    builtin = Path(tierflow.__file__).parent.parent.parent / "rulesets" / source.name
    text = builtin.read_text(encoding="utf-8") if builtin.exists() else None
    if text is None:
        pytest.skip("the built-in rule set files are not beside the package")
    path = tmp_path / "district.yaml"
    path.write_text(text, encoding="utf-8")
    run = evaluate_partitioned(client, path, files[:2], as_of=AS_OF)
    assert run.decisions == _one_process(str(path), files[:2])[0]


TINY = """\
id: tiny
name: Tiny
version: "{version}"
tiers:
  - {{id: tier1, level: 1, default: true}}
"""


def test_a_worker_that_compiles_another_version_refuses(
    client: Any, files: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tierflow.scale import _evaluate

    path = tmp_path / "tiny.yaml"
    path.write_text(TINY.format(version=1), encoding="utf-8")
    real = _evaluate.load_ruleset

    def driver_then_edit(source: str, **options: Any) -> Any:
        found = real(source, **options)  # the driver's version 1...
        path.write_text(TINY.format(version=2), encoding="utf-8")  # ...the workers' 2
        return found

    monkeypatch.setattr(_evaluate, "load_ruleset", driver_then_edit)  # this process only
    with pytest.raises(TierflowError, match="give every worker the same file"):
        evaluate_partitioned(client, path, files[:1], as_of=AS_OF)


def test_import_tierflow_does_not_import_dask() -> None:
    code = "import sys, tierflow, tierflow.pipeline; print('distributed' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
