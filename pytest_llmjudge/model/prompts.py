"""Built-in judge prompts, one per judge kind; placeholders {premise}, {hypothesis}, {examples}."""

from __future__ import annotations

PROMPTED = """You are checking a summary for hallucinations.

Read the document and the summary. The summary is consistent (1) when every fact it states \
(names, numbers, dates, places, who did what, outcomes) is supported by the document. It is \
inconsistent (0) when any fact contradicts the document or is not stated in it, even if the \
rest is correct. Judge facts only, not style or completeness.

Document:
<<<
{premise}
>>>

Summary:
<<<
{hypothesis}
>>>

Answer with a JSON object only: {{"reason": "<one sentence naming the unsupported or \
contradicted fact, or why everything is supported>", "consistency": <1 or 0>}}"""

FEW_SHOT = """You are checking a summary for hallucinations.

The summary is consistent (1) when every fact it states (names, numbers, dates, places, who \
did what, outcomes) is supported by the document, and inconsistent (0) when any fact \
contradicts the document or is not stated in it. Judge facts only, not style.

Labelled examples:
{examples}

Now judge this case.

Document:
<<<
{premise}
>>>

Summary:
<<<
{hypothesis}
>>>

Answer with a JSON object only: {{"reason": "<one sentence>", "consistency": <1 or 0>}}"""

EXAMPLE = """Document:
<<<
{premise}
>>>
Summary:
<<<
{hypothesis}
>>>
Answer: {answer}"""

FINE_TUNED = """Document:
{premise}

Summary:
{hypothesis}

Is the summary factually consistent with the document? Answer in JSON: \
{{"reason": "...", "consistency": 0 or 1}}"""

BY_KIND = {"prompted": PROMPTED, "few-shot": FEW_SHOT, "fine-tuned": FINE_TUNED}
