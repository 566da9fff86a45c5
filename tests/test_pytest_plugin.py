"""The pytest plugin: a case file becomes tests, and the session one run in the store."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from routelens.pytest_plugin import ROUTING_CATEGORIES
from routelens.report.junit import failure_message
from routelens.routers.base import RouteRequest
from routelens.routers.local import LocalRouter
from routelens.runner.verdicts import judge
from routelens.store import AttemptRecord, RunRecord, RunStatus, Verdict, open_store
from routelens.suite.cases import load_case_suite
from routelens.suite.models import Category
from routelens.suite.skills import load_skill_set
from tests.conftest import SMALL_SKILLS, write_skill
from tests.telemetry.otlp_receiver import OtlpReceiver

pytest_plugins = ["pytester"]

CASES = """\
version: "1.0"
name: plugin-suite
tests:
  - id: TC1
    category: direct
    input: "create a bug for the login crash"
    expected_skill: jira-issue
  - id: TC2
    category: direct
    input: "find issues with JQL assigned to me"
    expected_skill: search
  - id: TC3
    category: negative
    input: "transition TES-1 to Done"
    expected_skill: jira-lifecycle
    not_skill: jira-issue
  - id: TC4
    category: negative
    input: "reopen TES-9 and move it to In Progress"
    expected_skill: jira-lifecycle
    not_skill: jira-search
  - id: TC5
    category: edge
    input: "transition TES-1 to Done"
    expected_skill: jira-search
"""
NEGATIVE_CASES = {"TC3", "TC4"}
OTEL_ENDPOINT_VARIABLES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
)


@dataclass(frozen=True)
class Suite:
    """A skills folder, a case file and a store URL inside `pytester.path`."""

    skills: Path
    cases: Path
    store_url: str

    def args(self, *extra: str) -> list[str]:
        """The routelens flags for this suite, then `extra`."""
        return [
            "--routelens-cases",
            str(self.cases),
            "--routelens-skills",
            str(self.skills),
            "--routelens-store",
            self.store_url,
            "-p",
            "no:cacheprovider",
            *extra,
        ]

    def runs(self) -> list[RunRecord]:
        """Every run in the store (none when it was never created)."""
        with open_store(self.store_url) as store:
            return store.list_runs()

    def attempts(self, run: RunRecord) -> list[AttemptRecord]:
        """The run's attempts."""
        with open_store(self.store_url) as store:
            return store.attempts(run.run_id)


@pytest.fixture(autouse=True)
def _no_ambient_collector(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in OTEL_ENDPOINT_VARIABLES:
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def suite(pytester: pytest.Pytester) -> Suite:
    """Three skills and five cases over three categories, written into `pytester.path`."""
    skills = pytester.path / "skills"
    for folder, (name, description) in SMALL_SKILLS.items():
        write_skill(skills, folder, name, description)
    cases = pytester.path / "cases.yaml"
    cases.write_text(CASES, encoding="utf-8")
    return Suite(skills, cases, f"sqlite:///{pytester.path / 'store.sqlite'}")


def local_verdicts(suite: Suite) -> dict[str, Verdict]:
    """What the local router makes of each case, routed directly (no pytest, no store)."""
    skills = load_skill_set(suite.skills)
    router = LocalRouter()
    verdicts = {}
    for case in load_case_suite(suite.cases, skills).cases:
        request = RouteRequest(
            case_id=case.id,
            input=case.input,
            skills=skills,
            context_facts=case.context_facts,
            context_messages=case.context_messages,
        )
        verdicts[case.id] = judge(case, router.route_now(request), skills).verdict
    return verdicts


def expected_outcomes(verdicts: dict[str, Verdict], repeat: int = 1) -> dict[str, int]:
    """`assert_outcomes` arguments for these verdicts."""
    counts = Counter(verdicts.values())
    return {
        "passed": counts[Verdict.PASS] * repeat,
        "failed": counts[Verdict.FAIL] * repeat,
        "errors": counts[Verdict.ERROR] * repeat,
    }


def only_run(suite: Suite) -> RunRecord:
    """The one run the session recorded."""
    runs = suite.runs()
    assert len(runs) == 1, runs
    return runs[0]


def test_every_case_is_a_test_judged_as_the_local_router_judges_it(
    pytester: pytest.Pytester, suite: Suite
) -> None:
    verdicts = local_verdicts(suite)
    assert Verdict.FAIL in verdicts.values()  # the suite shows a failure, not only passes

    result = pytester.runpytest(*suite.args())

    result.assert_outcomes(**expected_outcomes(verdicts))
    run = only_run(suite)
    assert run.status is RunStatus.COMPLETED
    assert run.labels["source"] == "pytest"
    assert run.router == "local"
    attempts = suite.attempts(run)
    assert {a.case_id: a.verdict for a in attempts} == verdicts
    assert {a.worker_id for a in attempts} == {0}
    result.stdout.fnmatch_lines([f"routelens run {run.run_id} completed: accuracy *, 5 attempts*"])


def test_a_wrong_route_fails_with_expected_and_got(pytester: pytest.Pytester, suite: Suite) -> None:
    result = pytester.runpytest(*suite.args())

    failed = [a for a in suite.attempts(only_run(suite)) if a.verdict is Verdict.FAIL]
    assert failed
    output = result.stdout.str()
    for attempt in failed:
        assert failure_message(attempt) in output
        assert f"Input: {attempt.input}" in output
    assert "Traceback" not in output


def test_node_ids_name_the_case_and_the_repeat(pytester: pytest.Pytester, suite: Suite) -> None:
    result = pytester.runpytest(*suite.args("-v"))

    output = result.stdout.str()
    for case_id in ("TC1", "TC2", "TC3", "TC4", "TC5"):
        assert f"cases.yaml::{case_id}[r0] " in output


def test_a_category_marker_selects_its_cases(pytester: pytest.Pytester, suite: Suite) -> None:
    verdicts = local_verdicts(suite)
    negatives = {case: verdict for case, verdict in verdicts.items() if case in NEGATIVE_CASES}

    result = pytester.runpytest(*suite.args("-m", "routing_negative"))

    result.assert_outcomes(**expected_outcomes(negatives), deselected=3)
    assert {a.case_id for a in suite.attempts(only_run(suite))} == NEGATIVE_CASES


def test_markers_are_declared_for_every_category(pytester: pytest.Pytester) -> None:
    assert tuple(Category) == ROUTING_CATEGORIES

    result = pytester.runpytest("--markers", "-p", "no:cacheprovider")

    result.stdout.fnmatch_lines([f"@pytest.mark.routing_{category}:*" for category in Category])


def test_repeat_runs_every_case_again(pytester: pytest.Pytester, suite: Suite) -> None:
    verdicts = local_verdicts(suite)

    result = pytester.runpytest(*suite.args("--routelens-repeat", "2", "-v"))

    result.assert_outcomes(**expected_outcomes(verdicts, repeat=2))
    assert "cases.yaml::TC5[r1] " in result.stdout.str()
    attempts = suite.attempts(only_run(suite))
    assert sorted((a.case_id, a.repeat_index) for a in attempts) == [
        (case, repeat) for case in sorted(verdicts) for repeat in (0, 1)
    ]


def test_ini_keys_stand_in_for_the_flags(pytester: pytest.Pytester, suite: Suite) -> None:
    pytester.makeini(
        f"""
        [pytest]
        routelens_cases = cases.yaml
        routelens_skills = skills
        routelens_store = {suite.store_url}
        routelens_repeat = 2
        routelens_label = team=qa release=1.2
        """
    )

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(**expected_outcomes(local_verdicts(suite), repeat=2))
    run = only_run(suite)
    assert run.labels == {"team": "qa", "release": "1.2", "source": "pytest"}


def test_a_flag_wins_over_its_ini_key(pytester: pytest.Pytester, suite: Suite) -> None:
    pytester.makeini(
        """
        [pytest]
        routelens_repeat = 3
        routelens_label = team=qa
        """
    )

    result = pytester.runpytest(
        *suite.args("--routelens-repeat", "1", "--routelens-label", "team=ops")
    )

    result.assert_outcomes(**expected_outcomes(local_verdicts(suite)))
    assert only_run(suite).labels == {"team": "ops", "source": "pytest"}


def test_a_bad_case_file_is_a_one_line_usage_error(pytester: pytest.Pytester, suite: Suite) -> None:
    suite.cases.write_text(CASES.replace("category: edge", "category: sideways"))

    result = pytester.runpytest(*suite.args())

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    lines = [line for line in result.stderr.lines if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"ERROR: routelens: {suite.cases}:")
    assert "category" in lines[0]
    assert suite.runs() == []


def test_a_missing_skills_folder_is_a_usage_error(pytester: pytest.Pytester, suite: Suite) -> None:
    result = pytester.runpytest(
        "--routelens-cases", str(suite.cases), "--routelens-skills", "nowhere"
    )

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: routelens: *nowhere*"])


def test_a_router_error_is_a_test_error(pytester: pytest.Pytester, suite: Suite) -> None:
    pytester.makepyfile(
        broken_router="""
        from routelens.routers.base import RouterError
        from routelens.routers.function import FunctionRouter

        def answer(request):
            if request.case_id == "TC2":
                raise RouterError("overloaded", error_type="overloaded_error", http_status=529)
            return "jira-lifecycle"

        def make(model=None):
            return FunctionRouter(answer, name="broken", model=model)
        """
    )
    pytester.syspathinsert()

    result = pytester.runpytest(*suite.args("--routelens-router", "broken_router:make"))

    result.assert_outcomes(passed=2, failed=2, errors=1)
    result.stdout.fnmatch_lines(["*Router error overloaded_error (HTTP 529): overloaded*"])
    verdicts = {a.case_id: a.verdict for a in suite.attempts(only_run(suite))}
    assert verdicts["TC2"] is Verdict.ERROR


def test_the_case_file_named_as_an_argument_runs_just_the_named_case(
    pytester: pytest.Pytester, suite: Suite
) -> None:
    result = pytester.runpytest(*suite.args("cases.yaml::TC2[r0]"))

    result.assert_outcomes(passed=1)
    assert [a.case_id for a in suite.attempts(only_run(suite))] == ["TC2"]


def test_each_item_keeps_its_attempt_in_the_stash(pytester: pytest.Pytester, suite: Suite) -> None:
    pytester.makeconftest(
        """
        import json
        from routelens.pytest_plugin import ATTEMPT_KEY

        def pytest_runtest_teardown(item):
            attempt = item.stash[ATTEMPT_KEY]
            with open("seen.jsonl", "a") as out:
                out.write(json.dumps([item.name, attempt.actual_skill]) + "\\n")
        """
    )

    pytester.runpytest(*suite.args())

    seen = [json.loads(line) for line in (pytester.path / "seen.jsonl").read_text().splitlines()]
    stored = {f"{a.case_id}[r0]": a.actual_skill for a in suite.attempts(only_run(suite))}
    assert dict(seen) == stored


def test_junit_xml_gets_the_routes_as_properties(pytester: pytest.Pytester, suite: Suite) -> None:
    pytester.runpytest(*suite.args("--junitxml", "junit.xml"))

    xml = (pytester.path / "junit.xml").read_text()
    run = only_run(suite)
    assert xml.count(f'<property name="routelens_run_id" value="{run.run_id}"') == 5
    for attempt in suite.attempts(run):
        assert f'<property name="actual_skill" value="{attempt.actual_skill}"' in xml


def test_stopping_early_leaves_the_run_interrupted(pytester: pytest.Pytester, suite: Suite) -> None:
    assert Verdict.FAIL in local_verdicts(suite).values()

    pytester.runpytest(*suite.args("-x", "--routelens-repeat", "2"))

    run = only_run(suite)
    assert run.status is RunStatus.INTERRUPTED
    assert len(suite.attempts(run)) < 10


def test_collect_only_lists_the_tests_and_records_nothing(
    pytester: pytest.Pytester, suite: Suite
) -> None:
    result = pytester.runpytest(*suite.args("--collect-only", "-q"))

    result.stdout.fnmatch_lines(["cases.yaml::TC1[[]r0[]]", "*5 tests collected*"])
    assert suite.runs() == []


def test_without_a_case_file_the_plugin_does_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_plain():\n    assert True\n")

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)
    assert "routelens run" not in result.stdout.str()
    assert not (pytester.path / ".routelens").exists()


def test_xdist_workers_share_one_run(pytester: pytest.Pytester, suite: Suite) -> None:
    verdicts = local_verdicts(suite)

    result = pytester.runpytest_subprocess(*suite.args("-n", "2", "--routelens-repeat", "2"))

    result.assert_outcomes(**expected_outcomes(verdicts, repeat=2))
    run = only_run(suite)
    assert run.status is RunStatus.COMPLETED
    assert run.settings["concurrency"] == 2
    attempts = suite.attempts(run)
    assert len({(a.case_id, a.repeat_index) for a in attempts}) == len(attempts) == 10
    assert {a.worker_id for a in attempts} == {0, 1}
    result.stdout.fnmatch_lines([f"routelens run {run.run_id} completed: *10 attempts*"])


def test_telemetry_hangs_the_worker_span_under_the_suite_span(
    pytester: pytest.Pytester, suite: Suite
) -> None:
    with OtlpReceiver() as receiver:
        result = pytester.runpytest(*suite.args("--routelens-otlp-endpoint", receiver.endpoint))
        spans = receiver.spans()

    result.assert_outcomes(**expected_outcomes(local_verdicts(suite)))
    by_name = Counter(span.name for span in spans)
    assert by_name["routing_test_suite"] == 1
    assert by_name["worker_0"] == 1
    suite_span = next(s.span for s in spans if s.name == "routing_test_suite")
    worker = next(s.span for s in spans if s.name == "worker_0")
    assert worker.parent_span_id == suite_span.span_id
    attempts = [s.span for s in spans if s.name.startswith("routing_test_TC")]
    assert len(attempts) == 5
    assert {span.parent_span_id for span in attempts} == {worker.span_id}


def test_under_xdist_each_worker_span_joins_the_controllers_suite_span(
    pytester: pytest.Pytester, suite: Suite
) -> None:
    with OtlpReceiver() as receiver:
        result = pytester.runpytest_subprocess(
            *suite.args("-n", "2", "--routelens-repeat", "2"),
            "--routelens-otlp-endpoint",
            receiver.endpoint,
        )
        spans = receiver.spans()

    result.assert_outcomes(**expected_outcomes(local_verdicts(suite), repeat=2))
    suites = [s for s in spans if s.name == "routing_test_suite"]
    assert len(suites) == 1
    suite_span = suites[0].span
    workers = {s.name: s for s in spans if s.name.startswith("worker_")}
    assert set(workers) == {"worker_0", "worker_1"}
    for worker in workers.values():
        assert worker.span.trace_id == suite_span.trace_id
        assert worker.span.parent_span_id == suite_span.span_id
    instances = {w.resource.get("service.instance.id") for w in workers.values()}
    assert len(instances) == 2
    attempts = [s.span for s in spans if s.name.startswith("routing_test_TC")]
    assert len(attempts) == 10
    assert {span.trace_id for span in attempts} == {suite_span.trace_id}


HARNESS = """\
def test_the_teams_live_harness():
    raise AssertionError("the team's own harness ran: it calls the live API")
"""


def test_the_suite_alone_runs_unless_other_tests_are_named(
    pytester: pytest.Pytester, suite: Suite
) -> None:
    pytester.makepyfile(test_routing_golden=HARNESS)
    verdicts = local_verdicts(suite)

    alone = pytester.runpytest(*suite.args())

    alone.assert_outcomes(**expected_outcomes(verdicts))
    assert "the team's own harness ran" not in alone.stdout.str()

    both = pytester.runpytest(*suite.args("test_routing_golden.py"))
    counts = expected_outcomes(verdicts)
    both.assert_outcomes(
        passed=counts["passed"], failed=counts["failed"] + 1, errors=counts["errors"]
    )


def test_an_ini_case_file_keeps_plain_pytest_collecting_everything(
    pytester: pytest.Pytester, suite: Suite
) -> None:
    pytester.makepyfile(test_unit="def test_unit():\n    assert True\n")
    pytester.makeini(
        f"""
        [pytest]
        routelens_cases = cases.yaml
        routelens_skills = skills
        routelens_store = {suite.store_url}
        """
    )

    result = pytester.runpytest("-p", "no:cacheprovider")

    counts = expected_outcomes(local_verdicts(suite))
    result.assert_outcomes(
        passed=counts["passed"] + 1, failed=counts["failed"], errors=counts["errors"]
    )


def test_ids_are_relative_to_the_rootdir_through_a_symlinked_path(
    pytester: pytest.Pytester, suite: Suite
) -> None:
    real = pytester.path / "team" / "routing"
    real.mkdir(parents=True)
    (real / "routing_golden.yaml").write_text(CASES, encoding="utf-8")
    elsewhere = pytester.path.parent / f"{pytester.path.name}-link"
    elsewhere.symlink_to(pytester.path, target_is_directory=True)
    linked_cases = elsewhere / "team" / "routing" / "routing_golden.yaml"

    result = pytester.runpytest("--routelens-cases", str(linked_cases), *suite.args("-v")[2:])

    output = result.stdout.str()
    assert "team/routing/routing_golden.yaml::TC1[r0] " in output
    assert "../" not in output


def test_a_failed_workflow_says_what_the_workflow_rule_expected(
    pytester: pytest.Pytester, suite: Suite
) -> None:
    suite.cases.write_text(
        'tests:\n  - id: WF1\n    category: workflow\n    input: "create a bug"\n'
        "    workflow:\n      - {skill: search}\n      - {skill: lifecycle}\n"
        '    ask: "Search first, or create?"\n',
        encoding="utf-8",
    )

    result = pytester.runpytest(*suite.args())

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*Expected jira-search or jira-lifecycle or a clarifying question "
            "(any workflow step), got jira-issue*",
            "*Expected question: Search first, or create?*",
        ]
    )


def test_skipped_cases_are_pytest_skips_with_their_reason(
    pytester: pytest.Pytester, suite: Suite
) -> None:
    suite.cases.write_text(
        CASES.replace(
            "    expected_skill: jira-search\n",
            "    expected_skill: jira-search\n    skip: true\n    skip_reason: needs a board\n",
        ),
        encoding="utf-8",
    )
    verdicts = {case: v for case, v in local_verdicts(suite).items() if case != "TC5"}

    result = pytester.runpytest(*suite.args("-rs"))

    result.assert_outcomes(**expected_outcomes(verdicts), skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED *needs a board*"])
    run = only_run(suite)
    assert run.status is RunStatus.COMPLETED
    assert "TC5" not in {a.case_id for a in suite.attempts(run)}

    included = pytester.runpytest(*suite.args("--routelens-include-skipped"))
    included.assert_outcomes(**expected_outcomes(local_verdicts(suite)))


def test_several_problems_are_all_listed_before_pytest_stops(
    pytester: pytest.Pytester, suite: Suite
) -> None:
    suite.cases.write_text(
        CASES.replace("category: edge", "category: sideways").replace(
            "expected_skill: search", "expected_skill: nope"
        ),
        encoding="utf-8",
    )

    result = pytester.runpytest(*suite.args())

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    lines = [line for line in result.stderr.lines if line.strip()]
    assert len(lines) == 3, lines
    assert "error: tests[1].expected_skill: unknown skill 'nope'" in lines[0]
    assert "error: tests[4].category: unknown category 'sideways'" in lines[1]
    assert lines[2].endswith("2 problems (2 errors, 0 warnings), listed above")
    assert suite.runs() == []
