"""Benchmark the web UI: first streamed text, page load, and concurrent chat sessions.

Not collected by pytest (outside ``tests/``). Run::

    HF_HUB_OFFLINE=1 ANONYMIZED_TELEMETRY=False .venv/bin/python benchmarks/bench_ui.py

It builds a temporary index from ``corpus/`` and launches the app in-process, or measures a running
app with ``--url http://127.0.0.1:7860/``. Figures:

* **first text**: submit on ``/chat`` -> first update carrying answer text (not the pending dots),
  warm, over ``--asks`` questions; also submit -> first update of any kind.
* **page load**: navigation -> question box editable, in Debian's Chromium (skipped without it).
* **load**: ``--sessions`` clients at once, each asking ``--questions`` questions in its own
  conversation; errors, per-question latency, and whether each session's history holds exactly
  its own questions.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # app.py sits at the repository root, outside the package
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def summary(values: list[float]) -> dict[str, float]:
    """p50/p95/max in milliseconds."""
    if not values:
        return {}
    return {"n": len(values), "p50_ms": round(statistics.median(values) * 1000, 1),
            "p95_ms": round(percentile(values, 0.95) * 1000, 1), "max_ms": round(max(values) * 1000, 1)}


def questions() -> list[str]:
    """The answerable questions of the shipped set, Arabic and English interleaved."""
    rows = [json.loads(line) for line in (ROOT / "assistant/data/questions.jsonl").read_text("utf-8").splitlines()
            if line.strip()]
    arabic = [r["question"] for r in rows if r["answerable"] and r["lang"] == "ar"]
    english = [r["question"] for r in rows if r["answerable"] and r["lang"] == "en"]
    return [q for pair in zip(arabic, english, strict=False) for q in pair]


@contextmanager
def local_app() -> Iterator[str]:
    """The app over a fresh temporary index of ``corpus/``, launched in this process."""
    from assistant import Assistant, Settings
    from assistant.ui.web import create_demo

    with tempfile.TemporaryDirectory() as tmp:
        bot = Assistant(Settings(index_dir=Path(tmp) / "index", corpus_dir=ROOT / "corpus", progress=False))
        bot.ensure_index()
        demo = create_demo(bot)
        _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
        try:
            yield url
        finally:
            demo.close()


def _last_text(chatbot: list[dict[str, Any]]) -> str:
    return "".join(part.get("text", "") for part in chatbot[-1]["content"]) if chatbot else ""


def first_text(url: str, asks: list[str]) -> dict[str, Any]:
    """Submit -> first update, and submit -> first update with answer text, per question."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    for question in asks[:3]:  # warm: model, caches, connection
        client.predict(question, 5, "extractive", api_name="/chat")
    first_update: list[float] = []
    first_answer: list[float] = []
    for question in asks:
        client.predict(api_name="/new_chat")
        start = time.perf_counter()
        job = client.submit(question, 5, "extractive", api_name="/chat")
        seen_update = False
        for output in job:
            now = time.perf_counter() - start
            if not seen_update:
                first_update.append(now)
                seen_update = True
            text = _last_text(output[0])
            if 'class="answer' in text and "pending" not in text:
                first_answer.append(now)
                break
        job.result()
    return {"first_update": summary(first_update), "first_answer_text": summary(first_answer)}


def page_load(url: str, loads: int = 5) -> dict[str, Any]:
    """Navigation -> question box editable, in a fresh browser context each time."""
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        return {"skipped": "playwright is not installed"}
    if not CHROMIUM.exists():
        return {"skipped": f"{CHROMIUM} is missing"}
    times: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for _ in range(loads + 1):
            context = browser.new_context()
            page = context.new_page()
            start = time.perf_counter()
            page.goto(url)
            expect(page.locator("#question textarea")).to_be_editable(timeout=30_000)
            times.append(time.perf_counter() - start)
            context.close()
        browser.close()
    return {"interactive": summary(times[1:])}  # the first load also warms the browser's disk cache


def load(url: str, sessions: int, per_session: int, pool: list[str]) -> dict[str, Any]:
    """``sessions`` concurrent conversations of ``per_session`` questions each."""
    from gradio_client import Client

    latencies: list[float] = []
    errors: list[str] = []
    leaked: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(sessions)

    def run(index: int) -> None:
        asked = [pool[(index * 7 + i) % len(pool)] + f" ({index}-{i})" for i in range(per_session)]
        try:
            client = Client(url, verbose=False)
        except Exception as error:  # noqa: BLE001 - a benchmark reports every failure
            with lock:
                errors.append(f"session {index}: connect: {error}")
            return
        barrier.wait()
        chatbot: list[dict[str, Any]] = []
        for question in asked:
            start = time.perf_counter()
            try:
                chatbot = client.predict(question, 5, "extractive", api_name="/chat")[0]
            except Exception as error:  # noqa: BLE001
                with lock:
                    errors.append(f"session {index}: {type(error).__name__}: {error}")
                continue
            with lock:
                latencies.append(time.perf_counter() - start)
        shown = [_last_text([m]) for m in chatbot if m["role"] == "user"]
        own = [f"({index}-{i})" for i in range(per_session)]
        if len(shown) != per_session or not all(tag in text for tag, text in zip(own, shown, strict=True)):
            with lock:
                leaked.append(index)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(sessions)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    return {"sessions": sessions, "questions_each": per_session, "errors": len(errors), "error_samples": errors[:5],
            "sessions_with_foreign_or_missing_history": leaked, "latency": summary(latencies),
            "wall_s": round(wall, 1), "questions_per_s": round(len(latencies) / wall, 2)}


def main() -> None:
    """Run the three measurements and print them as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="measure a running app instead of launching one")
    parser.add_argument("--asks", type=int, default=20, help="questions for the first-text figure")
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--questions", type=int, default=20, help="questions per session")
    parser.add_argument("--skip", nargs="*", default=[], choices=["first", "page", "load"])
    args = parser.parse_args()
    pool = questions()
    with nullcontext(args.url) if args.url else local_app() as url:
        results: dict[str, Any] = {"url": url}
        if "first" not in args.skip:
            results["first_text"] = first_text(url, pool[: args.asks])
            print(json.dumps(results["first_text"]), flush=True)
        if "page" not in args.skip:
            results["page_load"] = page_load(url)
            print(json.dumps(results["page_load"]), flush=True)
        if "load" not in args.skip:
            results["load"] = load(url, args.sessions, args.questions, pool)
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
