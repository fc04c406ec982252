"""`naa eval retrieval` on a small real partner: scores from its real knowledge base; bad question files."""

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from naa.cli import app

runner = CliRunner()

QUESTIONS = [
    {"question": "what does standard shipping cost?", "doc_ids": ["shipping.md"]},
    {"question": "how many days do I have to send an item back?", "doc_ids": ["returns.md", "shipping.md"]},
    {"question": "do gift cards expire?", "doc_ids": ["giftcards.md"]},
    {"question": "quantum chromodynamics lecture notes", "doc_ids": ["giftcards.md"]},  # scores too low
    {"question": "who won the football game last night?", "doc_ids": []},  # no article answers it
]


@pytest.fixture
def env(built_partner: tuple[Path, Path]) -> dict[str, str]:
    return {"NAA_DATA_DIR": str(built_partner[1])}


def _eval(built_partner: tuple[Path, Path], env: dict[str, str], questions: Path, *extra: str) -> str:
    args = ["eval", "retrieval", "--partner", str(built_partner[0]), "--questions", str(questions), *extra]
    result = runner.invoke(app, args, env=env)
    return str(result.output) + f"\nexit {result.exit_code}"


def test_scores_each_question_by_the_rank_of_its_documents_first_passage(
    built_partner: tuple[Path, Path], env: dict[str, str], tmp_path: Path
) -> None:
    questions = tmp_path / "questions.yaml"
    questions.write_text(yaml.safe_dump(QUESTIONS), encoding="utf-8")
    out = tmp_path / "result.json"

    output = _eval(built_partner, env, questions, "--out", str(out))

    assert output.endswith("exit 0"), output
    assert "hit@4" in output and "75.0%" in output  # the partner's top_k; three of four found first
    result = json.loads(out.read_text(encoding="utf-8"))
    assert [r["rank"] for r in result["results"]] == [1, 1, 1, None, None]
    assert result["answerable"] == 4
    assert (result["hit_at_1"], result["hit_at_k"], result["mrr"]) == (0.75, 0.75, 0.75)
    assert result["no_passage"] == 0.25 and result["results"][3]["retrieved"] == []  # below min_score
    assert result["unanswerable_rejected"] == 1.0 and result["results"][4]["retrieved"] == []


def test_a_lower_min_score_lets_unrelated_passages_through(
    built_partner: tuple[Path, Path], env: dict[str, str], tmp_path: Path
) -> None:
    questions = tmp_path / "questions.yaml"
    questions.write_text(yaml.safe_dump(QUESTIONS[3:]), encoding="utf-8")
    out = tmp_path / "result.json"

    output = _eval(built_partner, env, questions, "--out", str(out), "--min-score", "-1")

    assert output.endswith("exit 0"), output
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["no_passage"] == 0.0 and result["unanswerable_rejected"] == 0.0  # every passage passes -1
    assert len(result["results"][1]["retrieved"]) == 3  # the partner's three articles, one chunk each


def test_a_document_ranked_second_counts_for_hit_at_k_and_half_for_mrr(
    built_partner: tuple[Path, Path], env: dict[str, str], tmp_path: Path
) -> None:
    questions = tmp_path / "questions.yaml"
    # shipping.md answers "what does standard shipping cost?" first: scored against the other two
    # articles, the question's best-ranked one comes second or later
    questions.write_text(
        yaml.safe_dump([{"question": "what does standard shipping cost?", "doc_ids": ["returns.md"]}]),
        encoding="utf-8",
    )
    out = tmp_path / "result.json"

    output = _eval(built_partner, env, questions, "--out", str(out), "--top-k", "3")

    assert output.endswith("exit 0"), output
    result = json.loads(out.read_text(encoding="utf-8"))["results"][0]
    assert result["retrieved"][0] == "shipping.md" and result["rank"] != 1
    assert "misses" in output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("- question: where is my parcel\n", "entry 1, doc_ids: Field required"),
        ("question: where is my parcel\n", "must be a list of"),
        ("- question: where is my parcel\n  doc_ids: [a.md]\n- just text\n", "entry 2: Input should be"),
        ("- question: where is my parcel\n  doc_ids: [parcels.md]\n", "holds no document parcels.md"),
        ("- {question: [oops\n", "not valid YAML or JSON"),
    ],
    ids=["empty", "no-doc-ids", "not-a-list", "not-an-entry", "unknown-doc", "bad-yaml"],
)
def test_a_bad_questions_file_gets_a_message_naming_the_problem(
    built_partner: tuple[Path, Path], env: dict[str, str], tmp_path: Path, content: str, message: str
) -> None:
    questions = tmp_path / "questions.yaml"
    questions.write_text(content, encoding="utf-8")

    output = _eval(built_partner, env, questions)

    assert message in " ".join(output.split()), output
    assert not output.endswith("exit 0") and "Traceback" not in output


def test_a_missing_questions_file_is_named(
    built_partner: tuple[Path, Path], env: dict[str, str], tmp_path: Path
) -> None:
    output = _eval(built_partner, env, tmp_path / "nope.yaml")
    assert "nope.yaml does not exist" in " ".join(output.split()) and not output.endswith("exit 0")


def test_an_unbuilt_knowledge_base_is_named(built_partner: tuple[Path, Path], tmp_path: Path) -> None:
    questions = tmp_path / "questions.yaml"
    questions.write_text(yaml.safe_dump(QUESTIONS), encoding="utf-8")
    output = _eval(built_partner, {"NAA_DATA_DIR": str(tmp_path / "empty")}, questions)
    assert "holds no documents: build it first" in " ".join(output.split()) and not output.endswith("exit 0")


def test_a_partner_of_ones_own_needs_its_own_questions(
    built_partner: tuple[Path, Path], env: dict[str, str]
) -> None:
    result = runner.invoke(app, ["eval", "retrieval", "--partner", str(built_partner[0])], env=env)
    assert result.exit_code != 0 and "give --questions" in result.output


def test_the_demo_questions_name_only_articles_the_demo_ships() -> None:
    from naa.cli.eval import DEMO_QUESTIONS
    from naa.eval.retrieval_eval import check_doc_ids, read_questions

    kb = DEMO_QUESTIONS.parent / "kb"
    articles = {str(p.relative_to(kb)) for p in kb.rglob("*.md")}
    questions = read_questions(DEMO_QUESTIONS)
    check_doc_ids(questions, articles, str(DEMO_QUESTIONS))
    answered = [q for q in questions if q.doc_ids]
    assert len(answered) >= 60 and len({q.doc_ids[0] for q in answered}) >= 50  # most articles asked about
    assert len(questions) - len(answered) >= 10  # and questions the help center does not answer
