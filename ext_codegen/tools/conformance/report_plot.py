"""The plot: one stacked bar of the classes per (dtype, samples, backend), if matplotlib is installed."""

from __future__ import annotations

from .report import RESULTS, dates, mode_label

COLORS = {"pass": "#2e9e4f", "fallback": "#8fc1e3", "error": "#f0a030", "mismatch": "#d62728", "random": "#bbbbbb"}


def plot(data: dict, path: str) -> bool:
    """A stacked bar per (dtype, samples, backend); ``False`` when matplotlib is missing."""
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary = data["summary"]
    labels = [f"{s['dtype']} ({mode_label(s['sample_mode'])}) {s['backend']}" for s in summary]
    fig, ax = plt.subplots(figsize=(8, 0.9 + 0.38 * len(summary)))
    y = list(range(len(summary)))[::-1]
    left = [0] * len(summary)
    for result in RESULTS:
        widths = [s[result] for s in summary]
        ax.barh(y, widths, left=left, color=COLORS[result], label=result, height=0.7)
        left = [a + b for a, b in zip(left, widths)]
    for yy, s, total in zip(y, summary, left):
        ax.text(total + max(left) * 0.01, yy, f"{s['matched']}/{s['ops']} matched"
                + (f", {s['mismatch']} mismatch" if s["mismatch"] else ""), va="center", fontsize=8)
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlim(0, max(left) * 1.25 if left else 1)
    ax.set_xlabel("OpInfo entries")
    e = data["environment"]
    ax.set_title(f"OpInfo conformance: torch {e['torch']}, triton {e['triton']}, {dates(data)}", fontsize=9)
    fig.legend(*ax.get_legend_handles_labels(), ncol=5, fontsize=8, loc="lower center", frameon=False)
    fig.tight_layout(rect=(0, 0.35 / fig.get_figheight(), 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
