"""Load and memory benchmark against the real app: concurrent gradio_client sessions, then a soak.

Starts ``app.py`` as a subprocess on a free 127.0.0.1 port over a temporary corpus (the article
plus one "canary" document per session), then:

1. load: ``--clients`` concurrent sessions for ``--seconds``, each its own ``gradio_client.Client``
   (its own browser session and chat history). A session asks its canary question, then a
   follow-up that only its own history resolves ("when was it built?"), then mixed Arabic and
   English questions (some of them follow-ups) and one-shot ``/ask`` calls. Reported: throughput,
   p50/p95/p99 per endpoint, errors, and canary failures (a history that crossed sessions).
2. soak: ``--soak`` questions through ``/ask`` and ``/chat``, the app's RSS sampled every 100.

Everything is bounded: requests time out, each session stops at ``--max-turns``, the load phase at
``--seconds`` (in-flight requests finish), the soak at ``--soak`` questions or ``--soak-seconds``.

    .venv/bin/python benchmarks/bench_load.py                       # 20 clients x 60 s, 1,000-question soak
    .venv/bin/python benchmarks/bench_load.py --clients 4 --seconds 20 --soak 200   # a quick look
"""

from __future__ import annotations

import argparse
import html
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "corpus" / "ghweiran-prison.txt"
QUESTIONS = ROOT / "assistant" / "data" / "questions.jsonl"
REQUEST_TIMEOUT = 120.0

_STATIONS = ("Alder", "Birch", "Cedar", "Dogwood", "Elm", "Fir", "Ginkgo", "Hazel", "Ivy", "Juniper", "Kapok",
             "Larch", "Maple", "Nutmeg", "Oak", "Poplar", "Quince", "Rowan", "Spruce", "Tamarind")
_KEEPERS = ("Jonas Berg", "Amira Haddad", "Lena Novak", "Omar Khalil", "Ines Duarte", "Pavel Sokol", "Yara Nasser",
            "Tomas Lind", "Salma Aziz", "Hugo Brandt", "Rana Saleh", "Erik Holm", "Maya Rahim", "Nils Dahl",
            "Dina Fares", "Karl Weiss", "Huda Mansour", "Otto Kranz", "Lina Badr", "Ivo Marek")
FOLLOW_UPS = (  # (question, follow-up that needs its history), from the article
    ("ما اسم الوكالة التابعة لتنظيم الدولة؟", "وكم عدد الفارين من السجن بحسبها؟"),
    ("Who is the commander-in-chief of the SDF?", "What did he say about the fight against IS?"),
)


@dataclass(frozen=True)
class Canary:
    """A fact only one session asks about; its follow-up must be resolved from that session's history."""

    station: str
    keeper: str
    year: str

    @property
    def filename(self) -> str:
        return f"station-{self.station.lower()}.txt"

    @property
    def text(self) -> str:
        return (f"Weather station {self.station}\n"
                f"The weather station {self.station}, kept by {self.keeper}, was built in {self.year} on the "
                "northern ridge.\n")

    @property
    def question(self) -> str:
        return f"Who keeps the weather station {self.station}?"

    follow_up = "And when was it built?"


def canaries(n: int) -> list[Canary]:
    """``n`` (at most 20) canary facts with distinct stations, keepers and years."""
    return [Canary(_STATIONS[i], _KEEPERS[i], str(1901 + 4 * i)) for i in range(min(n, len(_STATIONS)))]


def write_corpus(folder: Path, facts: list[Canary]) -> Path:
    """The article and one document per canary."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ARTICLE, folder / ARTICLE.name)
    for fact in facts:
        (folder / fact.filename).write_text(fact.text, encoding="utf-8")
    return folder


def load_questions() -> list[str]:
    """The shipped question set (Arabic and English)."""
    return [json.loads(line)["question"] for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line]


@dataclass
class LoadResult:
    """Everything the sessions saw."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    canary_checks: int = 0
    canary_failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, endpoint: str, seconds: float) -> None:
        with self.lock:
            self.latencies.setdefault(endpoint, []).append(seconds)

    def fail(self, message: str, canary: bool = False) -> None:
        with self.lock:
            (self.canary_failures if canary else self.errors).append(message)

    def summary(self) -> dict[str, object]:
        """Throughput, percentiles per endpoint and overall, errors and canary results."""
        every = [s for values in self.latencies.values() for s in values]
        return {
            "requests": len(every),
            "seconds": round(self.seconds, 1),
            "throughput_per_s": round(len(every) / self.seconds, 2) if self.seconds else 0.0,
            "latency_s": {name: percentiles(values) for name, values in sorted(self.latencies.items())}
            | {"all": percentiles(every)},
            "errors": len(self.errors),
            "error_samples": self.errors[:5],
            "canary_checks": self.canary_checks,
            "canary_failures": self.canary_failures[:5],
        }


def percentiles(values: list[float]) -> dict[str, float]:
    """p50/p95/p99 and the maximum, in seconds (nearest-rank)."""
    if not values:
        return {}
    ordered = sorted(values)

    def rank(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, max(0, int(round(p * len(ordered) + 0.5)) - 1))], 3)

    return {"n": len(ordered), "p50": rank(0.50), "p95": rank(0.95), "p99": rank(0.99), "max": round(ordered[-1], 3),
            "mean": round(statistics.fmean(ordered), 3)}


def _texts(chatbot: list[dict]) -> list[str]:
    """The messages of a /chat reply as text (HTML entities decoded)."""
    return [html.unescape("".join(part.get("text", "") for part in m["content"]) if isinstance(m["content"], list)
                          else str(m["content"])) for m in chatbot]


class Session:
    """One browser session: its own gradio_client.Client, so its own chat history."""

    def __init__(self, url: str, result: LoadResult, seed: int, fact: Canary | None = None,
                 others: list[Canary] | None = None) -> None:
        from gradio_client import Client

        self.client = Client(url, verbose=False)
        self.fact, self.others, self.result = fact, others or [], result
        self.random = random.Random(seed)

    def call(self, endpoint: str, *args: object) -> object:
        started = time.perf_counter()
        job = self.client.submit(*args, api_name=endpoint)
        try:
            value = job.result(timeout=REQUEST_TIMEOUT)
        except Exception as error:  # any failure is an error of the run; it is counted, not raised
            self.result.fail(f"{endpoint}: {type(error).__name__}: {str(error)[:200]}")
            return None
        self.result.record(endpoint, time.perf_counter() - started)
        return value

    def chat(self, question: str) -> list[str] | None:
        got = self.call("/chat", question, 5, "extractive")
        return _texts(got[0]) if got else None

    def canary_turns(self) -> None:
        """The canary question, then its follow-up; the follow-up must come from this session's history."""
        assert self.fact is not None
        self.call("/new_chat")
        first = self.chat(self.fact.question)
        second = self.chat(self.fact.follow_up)
        if first is None or second is None:
            return
        with self.result.lock:
            self.result.canary_checks += 1
        questions = second[0::2]  # the conversation as the browser shows it: this session's turns only
        reply = second[-1] if second else ""
        foreign = [f.station for f in self.others if f.station in " ".join(questions) or f.year in reply]
        own = len(questions) == 2 and self.fact.question in questions[0] and self.fact.follow_up in questions[1]
        if not own or self.fact.year not in reply or foreign:
            self.result.fail(f"session {self.fact.station}: questions {questions}, reply {reply[:160]!r}, "
                             f"other sessions' facts {foreign}", canary=True)

    def mixed_turns(self, questions: list[str], turns: int) -> None:
        """Mixed Arabic/English questions, some of them follow-ups, and one-shot /ask calls."""
        for _ in range(turns):
            roll = self.random.random()
            if roll < 0.25:
                first, follow = self.random.choice(FOLLOW_UPS)
                self.chat(first)
                self.chat(follow)
            elif roll < 0.6:
                self.chat(self.random.choice(questions))
            else:
                self.call("/ask", self.random.choice(questions), 5)


def run_sessions(url: str, facts: list[Canary], seconds: float, max_turns: int = 200, seed: int = 0
                 ) -> LoadResult:
    """One session per canary, concurrently, until ``seconds`` pass or each has made ``max_turns`` rounds."""
    result = LoadResult()
    questions = load_questions()
    deadline = time.monotonic() + seconds

    def worker(index: int) -> None:
        try:
            session = Session(url, result, seed + index, facts[index], facts[:index] + facts[index + 1:])
        except Exception as error:  # a client that cannot connect is an error of the run
            result.fail(f"connect: {type(error).__name__}: {error}")
            return
        for _ in range(max_turns):
            session.canary_turns()
            if time.monotonic() >= deadline:
                break
            session.mixed_turns(questions, 2)
            if time.monotonic() >= deadline:
                break

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(len(facts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 4 * REQUEST_TIMEOUT)
    result.seconds = time.monotonic() - started
    return result


def rss_mb(pid: int) -> float:
    """Resident set size of a process, in MB."""
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def soak(url: str, pid: int, questions_total: int, max_seconds: float, clients: int = 2) -> dict[str, object]:
    """Ask ``questions_total`` questions (``/ask`` and ``/chat``), sampling the app's RSS every 100."""
    questions = load_questions()
    result = LoadResult()
    asked = 0
    samples: list[tuple[int, float]] = [(0, rss_mb(pid))]
    lock = threading.Lock()
    deadline = time.monotonic() + max_seconds

    def worker(index: int) -> None:
        nonlocal asked
        session = Session(url, result, index)
        turn = 0
        while time.monotonic() < deadline:
            with lock:
                if asked >= questions_total:
                    return
                asked += 1
                number = asked
            question = questions[number % len(questions)]
            if turn % 10 == 9:
                session.call("/new_chat")  # sessions start over, as people do
            if turn % 2:
                session.chat(question)
            else:
                session.call("/ask", question, 5)
            turn += 1
            if number % 100 == 0:
                with lock:
                    samples.append((number, rss_mb(pid)))

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max_seconds + 2 * REQUEST_TIMEOUT)
    samples.append((asked, rss_mb(pid)))
    values = [mb for _, mb in samples]
    return {"questions": asked, "seconds": round(time.monotonic() - started, 1), "errors": len(result.errors),
            "rss_mb": [[n, round(mb, 1)] for n, mb in samples], "rss_growth_mb": round(values[-1] - values[0], 1),
            "rss_max_growth_mb": round(max(values) - values[0], 1)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_app(folder: Path, facts: list[Canary], timeout: float = 900.0) -> tuple[subprocess.Popen, str]:
    """``python app.py`` over the article and the canaries, on a free port; returns once it serves."""
    corpus = write_corpus(folder / "corpus", facts)
    port = _free_port()
    env = {**os.environ, "ASSISTANT_CORPUS_DIR": str(corpus), "ASSISTANT_INDEX_DIR": str(folder / "index"),
           "ASSISTANT_HOST": "127.0.0.1", "ASSISTANT_PORT": str(port), "ASSISTANT_PROGRESS": "0",
           "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "GRADIO_ANALYTICS_ENABLED": "False"}
    log = (folder / "app.log").open("wb")
    process = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with {process.returncode}; see {folder / 'app.log'}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return process, url
        except OSError:
            time.sleep(1.0)
    process.kill()
    raise RuntimeError(f"app.py did not serve within {timeout:.0f}s; see {folder / 'app.log'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20, help="concurrent sessions (at most 20)")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the load phase")
    parser.add_argument("--max-turns", type=int, default=200, help="rounds per session at most")
    parser.add_argument("--soak", type=int, default=1000, help="questions in the memory soak (0: none)")
    parser.add_argument("--soak-clients", type=int, default=2, help="concurrent clients in the soak")
    parser.add_argument("--soak-seconds", type=float, default=3600.0, help="time limit of the soak")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-out" / "load.json")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    facts = canaries(args.clients)
    folder = Path(tempfile.mkdtemp(prefix="assistant-load-"))
    print(f"starting app.py over {len(facts)} canaries and the article in {folder} ...", flush=True)
    started = time.monotonic()
    process, url = start_app(folder, facts)
    report: dict[str, object] = {"clients": len(facts), "cores": os.cpu_count(),
                                 "load_average_before": os.getloadavg()}
    try:
        print(f"app serving at {url} after {time.monotonic() - started:.0f}s; warming up", flush=True)
        run_sessions(url, facts[:1], seconds=0, max_turns=1)
        report["rss_mb_after_warmup"] = round(rss_mb(process.pid), 1)
        print(f"load: {len(facts)} sessions for {args.seconds:.0f}s", flush=True)
        load = run_sessions(url, facts, args.seconds, args.max_turns)
        report["load"] = load.summary()
        report["load_average_after_load"] = os.getloadavg()
        print(json.dumps(report["load"], indent=1), flush=True)
        if args.soak:
            print(f"soak: {args.soak} questions", flush=True)
            report["soak"] = soak(url, process.pid, args.soak, args.soak_seconds, args.soak_clients)
            print(json.dumps(report["soak"], indent=1), flush=True)
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    print(f"results: {args.out}")
    load_errors = report["load"]["errors"] if isinstance(report.get("load"), dict) else 0  # type: ignore[index]
    return 0 if not load_errors else 1


if __name__ == "__main__":
    sys.exit(main())
