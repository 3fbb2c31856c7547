"""Asking a question set through the functions passed in (an assistant's ``ask`` and ``chat``, or
a baseline's search), and scoring every answer. No model of its own: the API and the baselines
call these."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from ..types import Answer, Hit
from .questions import DEPTH, Question
from .scoring import Passage, Record, gold_units, score_answer, score_retrieval

# -- running (I/O through the functions passed in) -------------------------------------------------

def run_questions(questions: list[Question], ask: Callable[[str, Sequence[str]], Answer],
                  new_chat: Callable[[], Any], progress: bool = True,
                  corpus: Sequence[Passage] | None = None, system: str = "ours") -> list[Record]:
    """Ask every question (conversations through a fresh chat) and score the answers.

    Args:
        questions: The question set.
        ask: Answers one question without the documents named in its second argument; ask for
            :data:`DEPTH` passages so MRR@10 and nDCG@10 see ten.
        new_chat: A fresh conversation, with an ``ask(question) -> Answer`` method.
        progress: Show a progress bar.
        corpus: Every chunk of the index; when given, the retrieved chunks are mapped to gold.
        system: The name recorded on each record.
    """
    from tqdm.auto import tqdm

    by_id = {p.chunk_id: p for p in corpus} if corpus is not None else None
    records = []
    for item in tqdm(questions, desc=f"Asking ({system})", unit="q", disable=not progress, delay=1.0):
        if len(item.turns) > 1:
            chat = new_chat()
            for turn in item.turns[:-1]:
                chat.ask(turn)
            started = time.perf_counter()
            answer = chat.ask(item.question)
        else:
            started = time.perf_counter()
            answer = ask(item.question, item.exclude_sources)
        latency = (time.perf_counter() - started) * 1000
        gold = gold_units(item, corpus) if corpus is not None else []
        records.append(score_answer(item, answer, latency, system, by_id, gold))
    return records


def run_retrieval(questions: list[Question], search: Callable[[str, int], Sequence[Hit]],
                  corpus: Sequence[Passage], system: str, progress: bool = True) -> list[Record]:
    """Rank passages for every question with a retrieval-only system, and map them to gold.

    Conversations are searched with their last turn as it stands: these systems do not resolve
    follow-ups.

    Args:
        questions: The question set.
        search: ``(question, k) -> hits``, best first.
        corpus: Every chunk the system indexed (to count the gold passages).
        system: The system's name.
        progress: Show a progress bar.
    """
    from tqdm.auto import tqdm

    records = []
    for item in tqdm(questions, desc=f"Searching ({system})", unit="q", disable=not progress, delay=1.0):
        started = time.perf_counter()
        hits = list(search(item.question, DEPTH))
        latency = (time.perf_counter() - started) * 1000
        records.append(score_retrieval(item, hits, latency, system, gold_units(item, corpus)))
    return records
