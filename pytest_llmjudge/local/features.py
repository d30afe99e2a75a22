"""Features that compare a summary (hypothesis) with its document (premise)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from pytest_llmjudge.local.lexicon import (
    CONNECTORS,
    DIRECTIONS,
    EVENT_WORDS,
    NATIONALITIES,
    NUMBER_WORDS,
    SCALE_WORDS,
    STOPWORDS,
    TIME_WORDS,
    equivalents,
)
from pytest_llmjudge.local.quantities import quantities

FEATURES_VERSION = 3  # bump when features or word lists change: saved artifacts then retrain

# Wording features whose weight a short document changes: FIB's consistent summaries are edited,
# abstractive references (new wording reads as consistent there), short news documents' are not.
_WORDING: tuple[str, ...] = (
    "novel_content_share",
    "novel_bigram_share",
    "novel_trigram_share",
    "best_two_sentence_coverage",
    "far_neighbour_share",
    "unpaired_word_share",
)
SHORT_DOCUMENT_WORDS = 115  # documents with fewer words count as short (news-style)
_NEAR = 6  # tokens: how close the document must put a name and the summary's word beside it

FEATURE_NAMES: tuple[str, ...] = (
    "novel_name_spans",
    "partly_novel_name_spans",
    "recombined_name_spans",
    "novel_name_share",
    "novel_numbers",
    "novel_count_words",
    "novel_money",
    "novel_ages",
    "novel_years",
    "novel_nationalities",
    "novel_event_words",
    "novel_time_words",
    "novel_scale_words",
    "novel_content_words",
    "novel_content_share",
    "novel_bigram_share",
    "novel_trigram_share",
    "best_sentence_coverage",
    "best_two_sentence_coverage",
    "lead_sentence_coverage",
    "longest_copied_run_share",
    "novel_quote",
    "unanchored_context_share",
    "far_neighbour_share",
    "unpaired_word_share",
    "short_document",
    *(f"short_x_{name}" for name in _WORDING),
)

_WORD = re.compile(r"[A-Za-z\u00C0-\u024F]+(?:['\u2019][A-Za-z]+)?|\d+(?:[.,]\d+)*")
_SPAN_WORD = re.compile(r"[A-Za-z\u00C0-\u024F][\w\u00C0-\u024F'\u2019.&-]*")
_SENTENCE = re.compile(r"(?<=[.!?\"])\s+|\n+")
_QUOTE = re.compile(r"[\"\u201c]([^\"\u201d]{3,80})[\"\u201d]")


def stem(word: str) -> str:
    """Crude suffix stripping so that 'charged', 'charges' and 'charging' meet."""
    word = word.lower().replace("\u2019", "'")
    if word.endswith("'s"):
        word = word[:-2]
    for suffix in ("ings", "ing", "ied", "ies", "ed", "es", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:6]


def words(text: str) -> list[str]:
    """Lower-case word and number tokens of a text."""
    return [w.lower().replace("\u2019", "'") for w in _WORD.findall(text)]


_EVENT, _TIME, _SCALE = (
    frozenset(stem(w) for w in ws) for ws in (EVENT_WORDS, TIME_WORDS, SCALE_WORDS)
)
_FLAGGED = _EVENT | _TIME | _SCALE


def _ngrams(tokens: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


@dataclass(frozen=True)
class Document:
    """What a premise offers for support, computed once per premise."""

    stems: frozenset[str]
    lower_text: str
    capitalised: frozenset[str]
    values: frozenset[float]
    sentences: tuple[frozenset[str], ...]
    bigrams: frozenset[tuple[str, ...]]
    trigrams: frozenset[tuple[str, ...]]
    token_text: str
    initials: frozenset[str]
    positions: dict[str, tuple[int, ...]]  # token positions of each stem
    n_words: int


@lru_cache(maxsize=512)
def analyse_document(premise: str) -> Document:
    """Index a premise for the support checks."""
    tokens = words(premise)
    sentences = tuple(
        frozenset(stem(w) for w in words(s)) for s in _SENTENCE.split(premise) if s.strip()
    )
    spans = _name_spans(premise, frozenset())
    initials = frozenset("".join(w[0] for w in span if w[0].isupper()).lower() for span in spans)
    caps = frozenset(w.lower() for w in re.findall(r"\b[A-Z][\w'-]*", premise))
    positions: dict[str, list[int]] = {}
    for i, token in enumerate(tokens):
        positions.setdefault(stem(token), []).append(i)
    return Document(
        stems=frozenset(stem(w) for w in tokens)
        | frozenset(stem(p) for w in tokens for p in w.split("-")),
        lower_text=" ".join(premise.lower().split()),
        capitalised=caps,
        values=frozenset(q.value for q in quantities(premise)),
        sentences=sentences or (frozenset(),),
        bigrams=frozenset(_ngrams(tokens, 2)),
        trigrams=frozenset(_ngrams(tokens, 3)),
        token_text=" " + " ".join(tokens) + " ",
        initials=initials,
        positions={key: tuple(value) for key, value in positions.items()},
        n_words=len(tokens),
    )


def _name_spans(text: str, known_caps: frozenset[str]) -> list[list[str]]:
    """Runs of capitalised words (joined by 'of', 'the', ...) as lists of words."""
    spans: list[list[str]] = []
    for sentence in _SENTENCE.split(text):
        current: list[str] = []
        tokens = _SPAN_WORD.findall(sentence)
        for i, raw in enumerate(tokens):
            token = raw.rstrip(".'\u2019-")
            possessive = token.endswith(("'s", "\u2019s"))
            token = token[:-2] if possessive else token
            is_cap = token[:1].isupper() and len(token) > 1 and token.lower() not in STOPWORDS
            if i == 0 and is_cap:
                is_cap = (
                    token.lower() in known_caps or token.lower() in NATIONALITIES or token.isupper()
                )
            if is_cap:
                current.append(token)
                if possessive:
                    spans.append(current)
                    current = []
            elif (
                i + 1 < len(tokens)
                and tokens[i + 1][:1].isupper()
                and (current and token.lower() in CONNECTORS or not current and token in DIRECTIONS)
            ):
                current.append(token)
            elif current:
                spans.append(current)
                current = []
        if current:
            spans.append(current)
    return spans


def _word_supported(word: str, doc: Document) -> bool:
    lower = word.lower().replace("\u2019", "'").removesuffix("'s")
    if lower in doc.capitalised or stem(lower) in doc.stems:
        return True
    if any(
        form in doc.lower_text if " " in form else stem(form) in doc.stems
        for form in equivalents(lower)
    ):
        return True
    if lower in doc.initials and len(lower) >= 2:
        return True
    parts = [p for p in re.split(r"[-.&']", lower) if p]
    return len(parts) > 1 and all(stem(p) in doc.stems for p in parts)


@dataclass(frozen=True)
class Comparison:
    """Feature values of one (premise, hypothesis) pair and the unsupported items behind them."""

    values: tuple[float, ...]
    unsupported: tuple[str, ...]  # names, numbers and nationalities the document lacks
    flagged_words: tuple[str, ...]  # new event, time and scale words ("died", "Friday", "record")
    unanchored: tuple[str, ...]  # words no document sentence with their neighbouring name holds
    best_coverage: float  # share of the summary's content words found in one document sentence


def _coverage(stems: set[str], sentence: frozenset[str]) -> float:
    return len(stems & sentence) / len(stems) if stems else 1.0


def _longest_run(tokens: list[str], doc: Document) -> int:
    best = 0
    for start in range(len(tokens)):
        length = best + 1
        while (
            start + length <= len(tokens)
            and " " + " ".join(tokens[start : start + length]) + " " in doc.token_text
        ):
            best = length
            length += 1
    return best


def _unanchored_context(
    tokens: list[str], anchors: set[str], doc: Document, window: int = 3
) -> tuple[tuple[str, ...], int, float]:
    """Words next to a supported name or number that no sentence holding it has, the pairs seen,
    and the share of the pairs the document never puts within `_NEAR` tokens of each other.

    A swapped role, place or figure keeps every word of the document but puts one beside a name
    or number the document never puts it with. The token distance is the tighter test: a role
    swapped between two people of one sentence ("co-founder Lydia Marsh" for "co-founder Tom
    Aldred") passes the sentence test and fails this one.
    """
    unanchored: list[str] = []
    pairs = placed_pairs = far = 0
    for i, token in enumerate(tokens):
        anchor = stem(token)
        if token not in anchors or anchor not in doc.stems:
            continue
        around = set().union(*(s for s in doc.sentences if anchor in s))
        placed = anchor in doc.positions
        for neighbour in tokens[max(0, i - window) : i] + tokens[i + 1 : i + 1 + window]:
            other = stem(neighbour)
            if neighbour in STOPWORDS or neighbour in anchors or other not in doc.stems:
                continue
            pairs += 1
            if other not in around:
                unanchored.append(neighbour)
            if placed and other in doc.positions:
                placed_pairs += 1
                far += not _near(doc, anchor, other)
    far_share = far / placed_pairs if placed_pairs else 0.0
    return tuple(dict.fromkeys(unanchored)), pairs, far_share


def _near(doc: Document, a: str, b: str) -> bool:
    return any(abs(i - j) <= _NEAR for i in doc.positions[a] for j in doc.positions[b])


def unpaired_word_share(tokens: list[str], doc: Document) -> float:
    """Share of consecutive supported content words that no document sentence holds together."""
    supported = [stem(t) for t in tokens if t not in STOPWORDS and stem(t) in doc.positions]
    pairs = [(a, b) for a, b in zip(supported, supported[1:], strict=False) if a != b]
    unpaired = sum(not any(a in s and b in s for s in doc.sentences) for a, b in pairs)
    return unpaired / len(pairs) if pairs else 0.0


def compare(premise: str, hypothesis: str) -> Comparison:
    """Compare a summary with its document; return feature values and what the document lacks."""
    doc = analyse_document(premise)
    unsupported: list[str] = []

    spans = _name_spans(hypothesis, doc.capitalised)
    novel = partly = recombined = 0
    for span in spans:
        names = [w for w in span if w.lower() not in CONNECTORS] or span
        missing = [w for w in names if not _word_supported(w, doc)]
        if missing and len(missing) == len(names):
            novel += 1
            unsupported.append(" ".join(span))
        elif missing:
            partly += 1
            unsupported.append(" ".join(span))
        elif len(names) > 1 and " ".join(span).lower() not in doc.lower_text:
            recombined += 1
    name_share = (novel + partly) / len(spans) if spans else 0.0

    kinds = {"number": 0, "count": 0, "money": 0, "age": 0, "year": 0}
    for quantity in quantities(hypothesis):
        if quantity.value not in doc.values:
            kinds[quantity.kind] += 1
            unsupported.append(quantity.text)

    tokens = words(hypothesis)
    nationalities = [w for w in tokens if w in NATIONALITIES and not _word_supported(w, doc)]
    unsupported.extend(n.capitalize() for n in nationalities if n.capitalize() not in unsupported)

    content = [
        w for w in tokens if w not in STOPWORDS and not w[0].isdigit() and w not in NUMBER_WORDS
    ]
    stems = {stem(w) for w in content}
    novel_words = tuple(dict.fromkeys(w for w in content if not _word_supported(w, doc)))
    categories = [
        sum(stem(w) in lexicon for w in novel_words) for lexicon in (_EVENT, _TIME, _SCALE)
    ]
    flagged = tuple(w for w in novel_words if stem(w) in _FLAGGED)
    coverages = sorted((_coverage(stems, s) for s in doc.sentences), reverse=True)
    anchors = {w.lower() for span in spans for w in span if w.lower() not in CONNECTORS} | {
        t for t in tokens if t[0].isdigit()
    }
    unanchored, pairs, far_share = _unanchored_context(tokens, anchors, doc)
    two = max(
        (
            _coverage(stems, a | b)
            for i, a in enumerate(doc.sentences)
            for b in doc.sentences[i + 1 :]
        ),
        default=coverages[0],
    )
    bigrams, trigrams = _ngrams(tokens, 2), _ngrams(tokens, 3)
    quotes = _QUOTE.findall(hypothesis)
    novel_quote = float(any(" ".join(q.lower().split()) not in doc.lower_text for q in quotes))

    wording = {
        "novel_content_share": len(novel_words) / len(content) if content else 0.0,
        "novel_bigram_share": len(bigrams - doc.bigrams) / len(bigrams) if bigrams else 0.0,
        "novel_trigram_share": len(trigrams - doc.trigrams) / len(trigrams) if trigrams else 0.0,
        "best_two_sentence_coverage": two,
        "far_neighbour_share": far_share,
        "unpaired_word_share": unpaired_word_share(tokens, doc),
    }
    short = float(doc.n_words < SHORT_DOCUMENT_WORDS)
    values = (
        float(novel),
        float(partly),
        float(recombined),
        name_share,
        math.log1p(kinds["number"]),
        math.log1p(kinds["count"]),
        math.log1p(kinds["money"]),
        math.log1p(kinds["age"]),
        math.log1p(kinds["year"]),
        math.log1p(len(nationalities)),
        *(math.log1p(n) for n in categories),
        math.log1p(len(novel_words) - sum(categories)),
        wording["novel_content_share"],
        wording["novel_bigram_share"],
        wording["novel_trigram_share"],
        coverages[0],
        two,
        _coverage(stems, doc.sentences[0]),
        _longest_run(tokens, doc) / len(tokens) if tokens else 0.0,
        novel_quote,
        len(unanchored) / pairs if pairs else 0.0,
        wording["far_neighbour_share"],
        wording["unpaired_word_share"],
        short,
        *(short * wording[name] for name in _WORDING),
    )
    return Comparison(values, tuple(dict.fromkeys(unsupported)), flagged, unanchored, coverages[0])
