"""The public surface is deliberate: this test changes whenever it does."""

import tierflow

EXPECTED = {
    "DEFAULT_FUNCTIONS",
    "AssignedIntervention",
    "AttendanceRecord",
    "CompiledRuleset",
    "Conference",
    "DataError",
    "DataReport",
    "Decision",
    "Explanation",
    "Function",
    "FunctionRegistry",
    "History",
    "IssuedStep",
    "LegalAction",
    "Problem",
    "Reason",
    "RulesetError",
    "RulesetRef",
    "SourceSpan",
    "StoreError",
    "StudentFacts",
    "TestResult",
    "TierflowError",
    "TriedIntervention",
    "WorkflowError",
    "__version__",
    "builtin_rulesets",
    "load_ruleset",
    "parse_ruleset",
}


def test_all_is_the_expected_public_surface() -> None:
    assert set(tierflow.__all__) == EXPECTED


def test_all_is_sorted_and_every_name_exists() -> None:
    # isort style, as ruff's RUF022 keeps it: CONSTANTS, then Classes, then functions.
    def kind(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert tierflow.__all__ == sorted(tierflow.__all__, key=kind)
    for name in tierflow.__all__:
        assert hasattr(tierflow, name), name


def test_public_classes_claim_the_top_level_module_or_their_package() -> None:
    for name in tierflow.__all__:
        obj = getattr(tierflow, name)
        module = getattr(obj, "__module__", "tierflow")
        assert module.startswith("tierflow"), (name, module)


def test_errors_subclass_matching_builtins() -> None:
    assert issubclass(tierflow.RulesetError, ValueError)
    assert issubclass(tierflow.DataError, ValueError)
    for cls in (
        tierflow.RulesetError,
        tierflow.DataError,
        tierflow.WorkflowError,
        tierflow.StoreError,
    ):
        assert issubclass(cls, tierflow.TierflowError)


def test_import_is_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, tierflow; "
        "print([m for m in ('hypothesis', 'transitions', 'sqlalchemy') if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
