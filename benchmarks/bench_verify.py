"""Verification of LLM answers: calibration, the adversarial set, and the overhead per answer.

    python benchmarks/bench_verify.py              # adversarial set + overhead, with the shipped thresholds
    python benchmarks/bench_verify.py --calibrate  # similarity distributions and the thresholds they give
    python benchmarks/bench_verify.py --verbose    # every sentence's verdict

Scripted answers (``tests/scripted_answers.py``) run through the real pipeline: the article is
indexed into a temporary folder, each answer's question is retrieved as ``Assistant.ask`` does,
and the answer is verified by ``LLMAnswerer.finish`` with the real embedder. No LLM is involved.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # the scripted LLM and answers live with the tests

from fake_servers import ScriptedLLM  # noqa: E402
from scripted_answers import ADVERSARIAL, CORRECT, FABRICATED  # noqa: E402

from assistant import Assistant, Settings  # noqa: E402
from assistant.answer.generate import LLMAnswerer, sources_from_hits  # noqa: E402
from assistant.config import VerifySettings  # noqa: E402
from assistant.models.embeddings import VectorCache  # noqa: E402
from assistant.text.normalize import detect_language  # noqa: E402
from assistant.types import Answer, Hit  # noqa: E402
from assistant.verify.checks import verify_claims  # noqa: E402
from assistant.verify.claims import Verdict, split_claims  # noqa: E402

QUESTIONS = ROOT / "assistant" / "data" / "questions.jsonl"
ARTICLE = ROOT / "corpus" / "ghweiran-prison.txt"


def questions_by_id() -> dict[str, dict]:
    """The shipped question set, by id."""
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    return {q["id"]: q for q in map(json.loads, filter(str.strip, lines))}


def make_bot(folder: Path, llm: ScriptedLLM | None = None, **settings: object) -> Assistant:
    """An assistant over the article, indexed into ``folder``."""
    corpus = folder / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    shutil.copy(ARTICLE, corpus / ARTICLE.name)
    bot = Assistant(Settings(progress=False, index_dir=folder / "index", corpus_dir=corpus, **settings),
                    llm=llm)
    bot.ensure_index()
    return bot


def retrieve(bot: Assistant, question: str) -> list[Hit]:
    """The passages ``Assistant.ask`` would give the LLM."""
    vectors = bot.parts.retriever.embed(question)
    return bot.parts.retriever.retrieve_with_vectors(question, vectors, bot.settings.top_k)


def resolve(answer: str, hits: list[Hit], evidence: list[str]) -> str | None:
    """Replace ``{E}``, ``{E2}`` and ``{W}`` by the numbers of the matching passages; ``None`` if absent."""
    def holding(text: str) -> int | None:
        return next((n for n, hit in enumerate(hits, start=1) if text in hit.text), None)

    numbers = {}
    for key, index in (("E", 0), ("E2", 1)):
        if "{" + key + "}" in answer:
            found = holding(evidence[index]) if index < len(evidence) else None
            if found is None:
                return None
            numbers[key] = f"[{found}]"
    if "{W}" in answer:
        wrong = next((n for n, hit in enumerate(hits, start=1) if not any(e in hit.text for e in evidence)), None)
        if wrong is None:
            return None
        numbers["W"] = f"[{wrong}]"
    return answer.format(**numbers)


def llm_answerer(bot: Assistant, verify: VerifySettings | None = None) -> LLMAnswerer:
    """The LLM answerer the assistant would build, around a scripted LLM, with these thresholds."""
    answerer = LLMAnswerer.from_settings(bot.settings, bot.parts.embedder.embed_passages,
                                         lambda ids, texts: bot.parts.sentence_vectors(ids, texts, second=False),
                                         llm=ScriptedLLM())
    assert answerer is not None
    if verify is not None:
        answerer.verify = verify
    return answerer


# -- calibration ------------------------------------------------------------------------------------

@dataclass
class Pair:
    """One sentence against its cited passage: similarity, gap to the best passage, language pair,
    whether the checks other than similarity pass, and whether it is truly supported."""

    similarity: float
    gap: float
    cross: bool
    other_checks: bool
    supported: bool
    label: str


LOOSE = VerifySettings(min_similarity_same=-1.0, min_similarity_cross=-1.0, max_gap=1.0)


def _pairs(bot: Assistant, answerer: LLMAnswerer, answer: str, hits: list[Hit], supported: bool,
           label: str) -> list[Pair]:
    sources = sources_from_hits(hits, lambda ids, texts: bot.parts.sentence_vectors(ids, texts, second=False))
    loose = replace(LOOSE, min_coverage=answerer.verify.min_coverage)
    pairs = []
    for verdict in verify_claims(split_claims(answer), sources, answerer.vectors, loose):
        cross = detect_language(verdict.claim.text) != "ar"  # the corpus is Arabic
        pairs.append(Pair(verdict.similarity, verdict.gap, cross, verdict.supported, supported, label))
    return pairs


def calibration_pairs(bot: Assistant, answerer: LLMAnswerer) -> list[Pair]:
    """Correct answers citing their evidence (positives); the same answers citing a retrieved passage
    without the evidence, and invented answers to the unanswerable questions (negatives)."""
    questions = questions_by_id()
    pairs: list[Pair] = []
    for qid, template in CORRECT.items():
        question = questions[qid]
        hits = retrieve(bot, question["question"])
        answer = resolve(template, hits, question["evidence"])
        if answer is None:
            print(f"  {qid}: evidence not retrieved, skipped")
            continue
        pairs += _pairs(bot, answerer, answer, hits, True, qid)
        if "{E2}" in template:
            continue
        for n, hit in enumerate(hits, start=1):
            if not any(e in hit.text for e in question["evidence"]):
                pairs += _pairs(bot, answerer, template.replace("{E}", f"[{n}]"), hits, False, f"{qid}->[{n}]")
    for qid, answer in FABRICATED.items():
        pairs += _pairs(bot, answerer, answer, retrieve(bot, questions[qid]["question"]), False, qid)
    return pairs


def accepted(pair: Pair, threshold: float, max_gap: float) -> bool:
    """Whether verification keeps the sentence with these thresholds."""
    return pair.other_checks and pair.similarity >= threshold and pair.gap <= max_gap


def _best_threshold(positives: list[Pair], negatives: list[Pair], gap: float, keep: float
                    ) -> tuple[int, int, float]:
    """For one gap: (supported kept, capped at the target; unsupported accepted; threshold). Among
    thresholds equally good on the set, the middle one (largest margin on both sides)."""
    target = math.ceil(keep * len(positives))
    scored = []
    for step in range(0, 41):
        threshold = round(0.78 + 0.005 * step, 3)
        kept = sum(accepted(p, threshold, gap) for p in positives)
        wrong = sum(accepted(p, threshold, gap) for p in negatives)
        scored.append((min(kept, target), -wrong, threshold))
    best = max(scored)[:2]
    tied = [t for k, w, t in scored if (k, w) == best]
    middle = round(round((min(tied) + max(tied)) / 2 / 0.005) * 0.005, 3)
    return best[0], -best[1], middle


def calibrate(bot: Assistant, answerer: LLMAnswerer, keep: float = 0.95) -> dict[str, float]:
    """Choose one gap and, per language pair, a similarity threshold: the setting that accepts the
    fewest unsupported sentences while keeping at least ``keep`` of the supported ones (or as many
    as possible), preferring the smaller gap, then the threshold in the middle of the equally good ones."""
    pairs = calibration_pairs(bot, answerer)
    groups = {name: ([p for p in pairs if p.cross == cross and p.supported],
                     [p for p in pairs if p.cross == cross and not p.supported])
              for name, cross in (("same", False), ("cross", True))}
    options = []
    for gap in (0.0, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05):
        results = {name: _best_threshold(pos, neg, gap, keep) for name, (pos, neg) in groups.items()}
        kept = sum(r[0] for r in results.values())
        wrong = sum(r[1] for r in results.values())
        options.append((kept, -wrong, -gap, results))
    _, _, minus_gap, results = max(options, key=lambda o: o[:3])
    gap = -minus_gap
    chosen: dict[str, float] = {"max_gap": gap}
    print(f"calibration on the question set: max gap {gap:.3f}")
    for name, (positives, negatives) in groups.items():
        threshold = results[name][2]
        chosen[name] = threshold
        kept = sum(accepted(p, threshold, gap) for p in positives)
        wrong = sum(accepted(p, threshold, gap) for p in negatives)
        caught = sum(not p.other_checks for p in negatives)
        print(f"{name}-language: {len(positives)} supported sentences, {len(negatives)} unsupported "
              f"({caught} caught by numbers, names, days, words, negation or binding alone)")
        print(f"  similarity of supported: min {min(p.similarity for p in positives):.3f}, "
              f"median {statistics.median(p.similarity for p in positives):.3f}")
        print(f"  threshold {threshold:.3f}: keeps {kept}/{len(positives)} supported, accepts "
              f"{wrong}/{len(negatives)} unsupported")
        for p in positives:
            if not accepted(p, threshold, gap):
                print(f"    supported but rejected: {p.label} sim {p.similarity:.3f} gap {p.gap:.3f} "
                      f"other checks {'pass' if p.other_checks else 'fail'}")
        for p in negatives:
            if accepted(p, threshold, gap):
                print(f"    unsupported but accepted: {p.label} sim {p.similarity:.3f} gap {p.gap:.3f}")
    return chosen


# -- the adversarial set ------------------------------------------------------------------------------

@dataclass
class Outcome:
    """Counts over the adversarial set."""

    answers: int = 0
    hallucinated: int = 0
    hallucinated_kept: int = 0
    supported: int = 0
    supported_dropped: int = 0
    skipped: int = 0


def run_adversarial(bot: Assistant, answerer: LLMAnswerer, verbose: bool = False
                    ) -> tuple[Outcome, list[float]]:
    """Verify every adversarial answer; count survivors and losses; time ``finish`` per answer (ms)."""
    questions = questions_by_id()
    outcome = Outcome()
    timings: list[float] = []
    for qid, template, labels in ADVERSARIAL:
        question = questions[qid]
        hits = retrieve(bot, question["question"])
        answer = resolve(template, hits, question["evidence"])
        # A sentence labelled supported is supported by the passages the LLM saw: without the
        # evidence among them (an uncited answer has no {E} to check it), the label would be wrong.
        if answer is None or ("S" in labels and not any(question["evidence"][0] in hit.text for hit in hits)):
            outcome.skipped += 1
            print(f"  {qid}: evidence not retrieved, skipped")
            continue
        claims = split_claims(answer)
        assert len(claims) == len(labels), (qid, [c.text for c in claims])
        language = question["lang"]
        extractive = Answer(text="(extractive)", grounded=True, language=language, question=question["question"])
        started = time.perf_counter()
        final = answerer.finish(answer, language, hits, extractive)
        timings.append((time.perf_counter() - started) * 1000)
        verdicts = _verdicts(bot, answerer, answer, hits)
        outcome.answers += 1
        for verdict, label in zip(verdicts, labels, strict=True):
            kept = verdict.supported
            if label == "H":
                outcome.hallucinated += 1
                outcome.hallucinated_kept += kept
            else:
                outcome.supported += 1
                outcome.supported_dropped += not kept
            wrong = kept != (label == "S")
            if verbose or wrong:
                flag = "WRONG" if wrong else "ok"
                print(f"  {flag:5} {label} {qid}: {verdict.claim.raw}  -> "
                      f"{'kept ' + str(list(verdict.citations)) if kept else 'dropped: ' + verdict.reason}"
                      f"  (sim {verdict.similarity:.3f})")
        if verbose:
            print(f"        final [{final.mode}]: {final.text[:160]}")
    return outcome, timings


def _verdicts(bot: Assistant, answerer: LLMAnswerer, answer: str, hits: list[Hit]) -> list[Verdict]:
    sources = sources_from_hits(hits, lambda ids, texts: bot.parts.sentence_vectors(ids, texts, second=False))
    return verify_claims(split_claims(answer), sources, answerer.vectors, answerer.verify)


def run_correct(bot: Assistant, answerer: LLMAnswerer) -> tuple[int, int, list[float]]:
    """The correct answers of the calibration set: how many sentences survive, and the time per answer."""
    questions = questions_by_id()
    kept = total = 0
    timings = []
    for qid, template in CORRECT.items():
        question = questions[qid]
        hits = retrieve(bot, question["question"])
        answer = resolve(template, hits, question["evidence"])
        if answer is None:
            continue
        extractive = Answer(text="(extractive)", grounded=True, language=question["lang"],
                            question=question["question"])
        started = time.perf_counter()
        final = answerer.finish(answer, question["lang"], hits, extractive)
        timings.append((time.perf_counter() - started) * 1000)
        total += 1
        kept += final.mode == "llm"
        if final.mode != "llm":
            print(f"  correct answer dropped {qid}: {final.notes[2:3]}")
    return kept, total, timings


def cold_timings(bot: Assistant, answerer: LLMAnswerer) -> list[float]:
    """Time ``finish`` per adversarial answer with an empty vector cache each time: every passage
    piece is embedded anew (the index stores sentence vectors, not the finer pieces)."""
    questions = questions_by_id()
    timings = []
    for qid, template, _labels in ADVERSARIAL:
        question = questions[qid]
        hits = retrieve(bot, question["question"])
        answer = resolve(template, hits, question["evidence"])
        if answer is None:
            continue
        answerer.vectors = VectorCache(bot.parts.embedder.embed_passages)
        extractive = Answer(text="(extractive)", grounded=True, language=question["lang"])
        started = time.perf_counter()
        answerer.finish(answer, question["lang"], hits, extractive)
        timings.append((time.perf_counter() - started) * 1000)
    return sorted(timings)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibrate", action="store_true", help="print distributions and derived thresholds")
    parser.add_argument("--verbose", action="store_true", help="print every sentence's verdict")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads (on a loaded machine 1 avoids OpenMP spin-waiting; 0: torch's default)")
    args = parser.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as folder:
        bot = make_bot(Path(folder))
        answerer = llm_answerer(bot)
        print(f"thresholds: same-language {answerer.verify.min_similarity_same}, cross-language "
              f"{answerer.verify.min_similarity_cross}, max gap {answerer.verify.max_gap}, repair margin "
              f"{answerer.verify.repair_margin}, min coverage {answerer.verify.min_coverage}")
        if args.calibrate:
            chosen = calibrate(bot, answerer)
            answerer.verify = replace(answerer.verify, min_similarity_same=chosen["same"],
                                      min_similarity_cross=chosen["cross"],
                                      max_gap=chosen["max_gap"])
            print(f"calibrated: same {chosen['same']}, cross {chosen['cross']}, max gap {answerer.verify.max_gap}")
        retrieve(bot, "warm up")
        answerer.finish("warm up [1].", "en", retrieve(bot, "warm up"),
                        Answer(text="", grounded=True, language="en"))
        outcome, timings = run_adversarial(bot, answerer, args.verbose)
        kept, total, correct_timings = run_correct(bot, answerer)
        all_timings = sorted(timings + correct_timings)
        print(f"adversarial set: {outcome.answers} answers ({outcome.skipped} skipped), "
              f"{outcome.hallucinated} hallucinated sentences, {outcome.supported} supported sentences")
        print(f"  hallucinated sentences surviving verification: {outcome.hallucinated_kept}/{outcome.hallucinated}")
        print(f"  supported sentences wrongly dropped: {outcome.supported_dropped}/{outcome.supported} "
              f"({100 * outcome.supported_dropped / max(outcome.supported, 1):.1f}%)")
        print(f"correct answers of the question set kept: {kept}/{total}")
        print(f"verification overhead per answer, warm cache ({len(all_timings)} answers): p50 "
              f"{statistics.median(all_timings):.1f} ms, p90 {all_timings[int(len(all_timings) * 0.9)]:.1f} ms")
        cold = cold_timings(bot, answerer)
        print(f"verification overhead per answer, cold cache ({len(cold)} answers): p50 "
              f"{statistics.median(cold):.1f} ms, p90 {cold[int(len(cold) * 0.9)]:.1f} ms")
        print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
