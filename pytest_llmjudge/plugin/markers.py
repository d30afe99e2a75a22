"""The plugin's two markers: their names and the help `pytest --markers` shows."""

MARKER = "llmjudge"
MARKER_HELP = (
    "llmjudge(dataset=PATH|Dataset, datasets=[...], judges=[Judge|fixture-name, ...], "
    "thresholds=['f1>=0.8', ...] | {'accuracy': 0.7}, baseline=True|'role', "
    "require_better=False, repeat=N): evaluate judges on labelled JSONL cases"
)
GEN_MARKER = "llmjudge_generator"
GEN_MARKER_HELP = (
    "llmjudge_generator(dataset=PATH|GenDataset, datasets=[...], "
    "generators=[Generator|fixture-name, ...], judge=Judge|fixture-name, "
    "sampling={'temperature': [...], 'top_p': [...], 'top_k': [...]}, samples=N, "
    "thresholds=['hallucination_rate<=0.1', ...], relevancy='lexical'|'judge'|Judge|fixture-name"
    "|None, compare=('base', 'finetuned'), require_better=False): judge the answers of generators"
)
