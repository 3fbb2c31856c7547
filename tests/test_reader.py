"""The reader's pure parts on hand-made cases, its training on a tiny synthetic set, and its data checks."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from assistant.answer.reader.data import (
    QAExample,
    code_switched,
    edited_negatives,
    load_examples,
    other_paragraph_negatives,
)
from assistant.answer.reader.spans import (
    SpanCandidate,
    Window,
    best_spans,
    context_offsets,
    no_answer_margin,
    stitch,
    token_labels,
    trim_span,
)
from assistant.ingest.squad import SquadFormatError

# -- spans (pure) -------------------------------------------------------------------------------------

OFFSETS = (None, None, (0, 4), (4, 9), (9, 12), (12, 20), None)  # <s> question… passage tokens </s>


def test_token_labels_find_the_answer_tokens():
    assert token_labels(OFFSETS, 4, 12) == (3, 4)
    # An answer that starts or ends inside a token takes the whole token.
    assert token_labels(OFFSETS, 6, 14) == (3, 5)


def test_token_labels_point_at_no_answer_outside_the_window():
    assert token_labels(OFFSETS, 0, 0) == (0, 0)  # empty answer
    assert token_labels(OFFSETS, 15, 25) == (0, 0)  # runs past the window's last token
    assert token_labels(OFFSETS, 30, 35) == (0, 0)  # wholly after it
    assert token_labels((None, None, None), 0, 3) == (0, 0)  # a window without passage tokens


def test_token_labels_at_a_window_edge_that_cuts_a_token():
    # The window's last passage token ends at 20; an answer ending at 19 (inside it) still fits.
    assert token_labels(OFFSETS, 13, 19) == (5, 5)


def test_best_spans_decode_to_characters_and_skip_question_tokens():
    start = np.array([0.0, 9.0, 1.0, 5.0, 0.0, 0.0, 0.0])
    end = np.array([0.0, 9.0, 0.0, 0.0, 6.0, 0.0, 0.0])
    spans = best_spans(start, end, Window(2, OFFSETS))
    assert (spans[0].passage, spans[0].start, spans[0].end) == (2, 4, 12)
    assert spans[0].score == pytest.approx(11.0)
    assert spans[0].null == pytest.approx(0.0)
    assert all(s.start >= 0 for s in spans)  # token 1 (the question) never starts a span


def test_best_spans_respects_order_and_length():
    start = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 9.0, 0.0])
    end = np.array([0.0, 0.0, 9.0, 0.0, 0.0, 0.0, 0.0])  # best end before best start
    spans = best_spans(start, end, Window(0, OFFSETS), max_tokens=1)
    assert all(s.end > s.start for s in spans)
    assert all(s.start != 12 or s.end == 20 for s in spans)  # one token at most


def test_stitch_keeps_each_span_once_with_its_best_score():
    a = SpanCandidate(0, 4, 12, 3.0, 1.0)
    b = SpanCandidate(0, 4, 12, 5.0, 2.0)
    c = SpanCandidate(1, 0, 3, 4.0, 0.0)
    assert stitch([a, b, c]) == [b, c]


def test_no_answer_margin_uses_the_surest_window():
    spans = [SpanCandidate(0, 0, 3, 6.0, 2.0)]
    assert no_answer_margin(spans, [2.0, -1.0]) == pytest.approx(7.0)
    assert no_answer_margin([], [1.0]) == float("-inf")


def test_trim_span_drops_punctuation_and_spaces_a_token_carried():
    text = "قال: «مظلوم عبدي»، ثم"
    start, end = trim_span(text, 4, 18)
    assert text[start:end] == "مظلوم عبدي"


# -- offsets through the real tokenizer ---------------------------------------------------------------

@pytest.fixture(scope="module")
def tokenizer(settings_base):
    from transformers import AutoTokenizer

    from assistant.models.prepare import prepare_e5_folder

    return AutoTokenizer.from_pretrained(str(prepare_e5_folder(settings_base.model_cache, progress=False)))


@pytest.mark.slow
@pytest.mark.parametrize("context, answer", [
    ("قُتِلَ سَبْعَةُ مدنيين في الحسكة.", "سَبْعَةُ مدنيين"),  # diacritics
    ("وأكدت أعمــــاق أن عدد الفارين بلغ 800 عنصر.", "800 عنصر"),  # tatweel before the answer
    ("قال قائد SDF \"Mazloum Abdi\" إن القتال مستمر", "Mazloum Abdi"),  # mixed scripts
])
def test_offsets_map_tokens_back_to_exact_source_characters(tokenizer, context, answer):
    from assistant.answer.reader.train import featurize

    start = context.index(answer)
    example = QAExample("q", "ما الجواب؟", context, start, answer)
    feature = featurize([example], tokenizer, 64, 16)[0]
    enc = tokenizer(example.question, context, return_offsets_mapping=True)
    offsets = context_offsets(enc["offset_mapping"], enc.sequence_ids())
    assert feature.start > 0
    a, b = offsets[feature.start][0], offsets[feature.end][1]
    a, b = trim_span(context, a, b)
    assert context[a:b] == answer


@pytest.mark.slow
def test_windows_of_a_long_passage_label_the_answer_once_per_window_that_holds_it(tokenizer):
    from assistant.answer.reader.train import featurize

    filler = " ".join(["كلام"] * 120)
    context = f"{filler} وبلغ عدد الفارين 800 عنصر. {filler}"
    start = context.index("800")
    features = featurize([QAExample("q", "كم عدد الفارين؟", context, start, "800")], tokenizer, 96, 32)
    assert len(features) > 3
    holding = [f for f in features if f.start > 0]
    assert holding and len(holding) < len(features)  # the other windows learn "not here"


# -- training data ------------------------------------------------------------------------------------

def _squad(tmp_path: Path, qas: list, context: str = "The prison is in Ghweiran.") -> Path:
    path = tmp_path / "set.json"
    path.write_text(json.dumps({"data": [{"title": "t", "paragraphs": [{"context": context, "qas": qas}]}]}),
                    encoding="utf-8")
    return path


def test_load_squad_reads_answerable_and_unanswerable_questions(tmp_path):
    path = _squad(tmp_path, [
        {"id": "1", "question": "Where is it?", "answers": [{"text": "Ghweiran", "answer_start": 17}]},
        {"id": "2", "question": "Who runs it?", "answers": [], "is_impossible": True},
    ])
    first, second = load_examples(path)
    assert (first.answer, first.answer_start, first.answerable) == ("Ghweiran", 17, True)
    assert not second.answerable


@pytest.mark.parametrize("qas, message", [
    ([{"id": "7", "question": "Where?", "answers": [{"text": "Ghweiran", "answer_start": 3}]}],
     "question '7'"),
    ([{"id": "8", "question": "Who?", "answers": []}], "not marked is_impossible"),
    ([{"id": "9", "answers": []}], "no question text"),
])
def test_a_malformed_record_names_the_file_and_the_record(tmp_path, qas, message):
    path = _squad(tmp_path, qas)
    with pytest.raises(SquadFormatError) as caught:
        load_examples(path)
    assert str(path) in str(caught.value) and message in str(caught.value)


def test_a_file_that_is_not_json_names_the_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(SquadFormatError, match="broken.json"):
        load_examples(path)


def test_empty_answers_are_skipped_and_listed(tmp_path):
    path = _squad(tmp_path, [{"id": "e", "question": "What?", "answers": [{"text": "", "answer_start": 0}]},
                             {"id": "f", "question": "Where?", "answers": [{"text": "Ghweiran", "answer_start": 17}]}])
    skipped: list[str] = []
    assert [e.qid for e in load_examples(path, skipped=skipped)] == ["f"]
    assert skipped == ["set.json:e"]


def test_other_paragraph_negatives_are_on_topic_and_lack_the_answer():
    examples = [QAExample("a", "Where?", "It is in Ghweiran.", 9, "Ghweiran", "t"),
                QAExample("b", "When?", "It fell on Thursday.", 11, "Thursday", "t"),
                QAExample("c", "Who?", "Ghweiran again.", 0, "Ghweiran", "t")]
    made = other_paragraph_negatives(examples, 1.0, random.Random(0))
    original = {e.qid + "-other": e.answer for e in examples}
    assert made and all(not m.answerable and original[m.qid] not in m.context for m in made)
    by_id = {m.qid: m for m in made}
    assert by_id["a-other"].context == "It fell on Thursday."  # the one paragraph without "Ghweiran"


def test_code_switched_copies_change_words_and_keep_the_label():
    example = QAExample("a", "where is the prison", "...", 0, "x")
    made = code_switched([example], lambda w: {"prison": "سجن"}.get(w), 1.0, 1.0, random.Random(0))
    assert made[0].question == "where is the سجن" and made[0].answer == "x"


def test_edited_negatives_keep_the_paragraph_and_ask_what_it_does_not_say():
    paragraph = "Jared Allen had 12 sacks in the season and won the award."
    examples = [QAExample("a", "How many sacks did Jared Allen have?", paragraph, 16, "12", "t"),
                QAExample("b", "Who won the award?", paragraph, 0, "Jared Allen", "t"),
                QAExample("c", "Who lost?", "Luke Kuechly lost the final.", 0, "Luke Kuechly", "t")]
    made = {m.qid.split("-")[0]: m for m in edited_negatives(examples, "en", 1.0, random.Random(0))}
    assert made["a"].question == "How many sacks did Kuechly have?"  # a name of the article's other paragraph
    assert made["b"].question == "Who lost the award?"  # the predicate reversed, the paragraph says "won"
    assert all(not m.answerable and m.origin.endswith("+edited") for m in made.values())
    assert made["a"].context == paragraph
    assert edited_negatives(examples, "en", 0.0, random.Random(0)) == []


def test_the_second_stage_plan_adds_the_new_slices_and_edited_negatives(tmp_path):
    from assistant.answer.reader.train import STAGES, build_examples

    def write(name, qas, context="Ghweiran is in Hasakah. Jared Allen won it in Hasakah."):
        (tmp_path / name).write_text(json.dumps({"data": [{"title": "t", "paragraphs": [
            {"context": context, "qas": qas}, {"context": "Luke Kuechly is elsewhere.", "qas": []}]}]}))

    where = [{"id": "q", "question": "Where is Ghweiran?", "answers": [{"text": "Hasakah", "answer_start": 15}]}]
    for name in STAGES[2].files.values():
        write(name, where)
    write("aqad-ar.json", [{"id": "n", "question": "Who?", "answers": [], "is_impossible": True}])
    origins = {e.origin for e in build_examples(tmp_path, STAGES[2])}
    assert {"arsquad", "squad2train", "arcd", "aqad"} <= origins
    assert any(o.endswith("+edited") for o in origins)
    assert not any(o.startswith("arsquad") for o in (e.origin for e in build_examples(tmp_path, STAGES[1])))


# -- training, tiny -----------------------------------------------------------------------------------

@pytest.mark.slow
def test_training_lowers_the_loss_and_the_adapter_saves_and_loads(tmp_path, tokenizer):
    import torch
    from transformers import BertConfig, BertForQuestionAnswering

    from assistant.answer.reader.model import load_reader
    from assistant.answer.reader.train import TrainPlan, export, featurize, new_model, train
    from assistant.models.reader import merged_folder

    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128, pad_token_id=tokenizer.pad_token_id)
    base = BertForQuestionAnswering(config)
    base_dir = tmp_path / "base"
    base.save_pretrained(base_dir)
    tokenizer.save_pretrained(base_dir)
    contexts = ["قتل سبعة مدنيين في الحسكة.", "فر 800 عنصر من السجن.", "السجن في حي غويران.", "The truce lasted hours."]
    answers = ["سبعة", "800", "غويران", "hours"]
    examples = [QAExample(str(i), "ما الجواب؟", c, c.index(a), a)
                for i, (c, a) in enumerate(zip(contexts, answers, strict=True))]
    features = featurize(examples * 8, tokenizer, 48, 16)
    plan = TrainPlan(batch_size=8, learning_rate=5e-3, epochs=4.0, rank=4, alpha=8, dropout=0.0, warmup=0.0)
    model = new_model(base, plan)
    losses = train(model, features, plan, tmp_path / "run", pad_id=tokenizer.pad_token_id, checkpoint_every=5,
                   log=lambda line: None)
    assert np.mean(losses[-3:]) < np.mean(losses[:3])
    assert (tmp_path / "run" / "checkpoint" / "state.pt").is_file()

    folder = export(model, plan, tmp_path / "adapter", {})
    reader = load_reader(base_dir, folder)
    reading = reader.read("ما الجواب؟", [contexts[1]])
    model.eval()
    enc = tokenizer("ما الجواب؟", contexts[1], return_tensors="pt")
    with torch.no_grad():
        expected = model(**{k: v for k, v in enc.items() if k != "token_type_ids"}).start_logits
    # The loaded (merged, fp16-saved) reader scores like the trained model.
    got = reader.model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).start_logits
    assert torch.allclose(got, expected, atol=0.05)
    assert reading.windows == 1 and reading.spans

    # The merge is kept beside the base for the next start, which loads it instead of merging again;
    # a damaged copy is merged afresh, never used.
    merged = merged_folder(base_dir, folder)
    assert (merged / "config.json").is_file() and not list(tmp_path.glob(".reader-*"))
    again = load_reader(base_dir, folder).model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
    assert torch.allclose(again.start_logits, got)
    for weights in merged.glob("*.safetensors"):
        weights.write_bytes(b"not safetensors")
    rebuilt = load_reader(base_dir, folder).model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
    assert torch.allclose(rebuilt.start_logits, got)


@pytest.mark.slow
def test_a_resumed_run_continues_where_it_stopped(tmp_path, tokenizer):
    import torch
    from transformers import BertConfig, BertForQuestionAnswering

    from assistant.answer.reader.train import TrainPlan, featurize, new_model, train

    config = BertConfig(vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=1, num_attention_heads=1,
                        intermediate_size=32, max_position_embeddings=64, pad_token_id=tokenizer.pad_token_id)
    examples = [QAExample(str(i), "كم؟", f"العدد {i} هنا.", 6, str(i)) for i in range(8)]
    features = featurize(examples, tokenizer, 32, 8)
    plan = TrainPlan(batch_size=2, epochs=2.0, rank=2, alpha=4, dropout=0.0)
    torch.manual_seed(0)
    first = new_model(BertForQuestionAnswering(config), plan)
    done = train(first, features, plan, tmp_path, pad_id=1, checkpoint_every=1, log=lambda line: None, stop_after=3)
    assert len(done) == 3
    torch.manual_seed(0)
    second = new_model(BertForQuestionAnswering(config), plan)
    rest = train(second, features, plan, tmp_path, pad_id=1, resume=True, log=lambda line: None)
    assert len(rest) == len(features) * 2 // 2 - 3  # the steps not yet run, no more

    other = TrainPlan(batch_size=2, epochs=3.0, rank=2, alpha=4, dropout=0.0)
    with pytest.raises(RuntimeError, match="another training plan"):
        train(new_model(BertForQuestionAnswering(config), other), features, other, tmp_path, pad_id=1, resume=True,
              log=lambda line: None)


@pytest.mark.slow
def test_a_huge_passage_is_read_in_a_bounded_number_of_windows(tokenizer):
    import time

    import torch
    from transformers import BertConfig, BertForQuestionAnswering

    from assistant.answer.reader.model import Reader, ReaderSettings

    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=1, num_attention_heads=1,
                        intermediate_size=32, max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id)
    reader = Reader(BertForQuestionAnswering(config), tokenizer, ReaderSettings(max_windows=6))
    huge = "وقال المصدر إن الاشتباكات مستمرة في محيط السجن. " * 20_000  # about a million characters
    started = time.perf_counter()
    reading = reader.read("ماذا قال المصدر؟", [huge, "فقرة ثانية لا تقرأ."])
    assert reading.windows == 6 and reading.unread == (1,)
    assert time.perf_counter() - started < 60
    assert all(0 <= s.start < s.end <= len(huge) for s in reading.spans)
