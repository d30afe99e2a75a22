"""How an hf model is prompted and how an hf judge answers: chat-template token ids cut to fit,
greedy decoding, and the probability of the label it gives (no model loading here)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pytest_llmjudge.model.verdict import LABEL_AT

MAX_NEW_TOKENS = 64
_HEAD_TOKENS = 24  # a truncated prompt keeps its first tokens (the chat header) and its end


def token_ids(tokenizer: Any, messages: list[dict[str, str]], generation_prompt: bool) -> list[int]:
    text = tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=generation_prompt
    )
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def fit_prompt(prompt: list[int], budget: int) -> list[int]:
    """A prompt cut to `budget` tokens: its head (chat header) and its tail (the question)."""
    if len(prompt) <= budget:
        return prompt
    head = min(_HEAD_TOKENS, budget // 4)
    return prompt[:head] + prompt[len(prompt) - (budget - head) :]


def prompt_ids(tokenizer: Any, messages: list[dict[str, str]], max_length: int) -> list[int]:
    """The tokens that ask the model (user turn and generation prompt), cut to fit."""
    return fit_prompt(token_ids(tokenizer, messages, True), max(8, max_length - MAX_NEW_TOKENS))


def judge_answer(
    model: Any, tokenizer: Any, messages: list[dict[str, str]], max_length: int, max_tokens: int
) -> tuple[str, int, float | None]:
    """Greedy decoding of a judge prompt: the answer's text, the tokens used, and P("1") where
    the answer gives its label (label_probability)."""
    import torch

    ids = prompt_ids(tokenizer, messages, max_length)
    inputs = torch.tensor([ids])
    with torch.no_grad():
        output = model.generate(
            input_ids=inputs,
            attention_mask=torch.ones_like(inputs),
            max_new_tokens=min(max_tokens, MAX_NEW_TOKENS),
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id,
            output_scores=True,
            return_dict_in_generate=True,
        )
    answer = output.sequences[0][len(ids) :].tolist()
    text = tokenizer.decode(answer, skip_special_tokens=True)
    return text, len(ids) + len(answer), label_probability(tokenizer, answer, output.scores)


def label_probability(tokenizer: Any, answer: Sequence[int], scores: Sequence[Any]) -> float | None:
    """P("1") against P("0") at the step where the answer gives its label (after
    `"consistency":`), from that step's next-token logits over the two label tokens of the form
    the model wrote ("1" or " 1"); None when the answer has no such step."""
    import torch

    pairs = [
        tuple(tokenizer.encode(f"{space}{label}", add_special_tokens=False)[-1] for label in "01")
        for space in ("", " ")
    ]
    for step, token in enumerate(answer[: len(scores)]):
        pair = next((p for p in pairs if token in p), None)
        if pair is None or not LABEL_AT.search(tokenizer.decode(answer[:step])):
            continue
        logits = scores[step][0][list(pair)].float()
        return float(torch.softmax(logits, dim=0)[1])
    return None
