"""Turn the committed benchmark results (``docs/results/benchmarks/*.json``) into the pages' tables and plots.

A Sphinx extension of the docs (``conf.py`` lists it): when a build starts,
:func:`render_all` writes ``docs/_generated/<name>.md`` and ``<name>.png`` for
every result, so the numbers on the performance pages always come from the
JSON files, never from text typed into a page.  ``python
docs/_ext/render_results.py`` does the same by hand.

It reads JSON and nothing else: the benchmark scripts (``benchmarks/``)
measure and write the JSON, and are never imported here.  Plots need
matplotlib (the ``docs`` extra).
"""

from __future__ import annotations

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.dirname(HERE)
#: The one home of committed benchmark results; the scripts write here.
RESULTS = os.path.join(DOCS, "results", "benchmarks")



def _load_note(result) -> str:
    """The sentence on the machine's load before and after a run, or nothing for a result without it."""
    load = result.get("load_average")
    return f" The load average was {load[0]:.1f} before and {load[3]:.1f} after." if load else ""

def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# ---------------------------------------------------------------- cpu_interpreter

#: How the CPU table names each case of ``benchmarks/cpu_interpreter.py``.
CPU_LABELS = {
    "pointwise_chain": "`(x.sin()*2 + x.cos()).relu()`",
    "row_sum_plus_max": "`x.sum(-1) + x.amax(-1)`",
    "softmax": "`softmax(x, -1)`",
    "layer_norm": "`layer_norm(x, w, b)`",
    "rms_norm": "RMSNorm",
    "column_sum": "`x.sum(0)` (non-contiguous)",
    "cumsum": "`x.cumsum(1)`",
    "cumprod": "`x.cumprod(1)`",
    "logcumsumexp": "`x.logcumsumexp(1)`",
    "cumsum_both": "`(x.cumsum(0), x.cumsum(1))`",
    "sort_values": "`x.sort(1).values`",
    "ln_mlp_block": "LayerNorm + GELU MLP block",
}


def _ms(value: float) -> str:
    return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"


def cpu_markdown(result: dict) -> str:
    """The CPU results as MyST Markdown: the benchmark table, then the cost model, each between markers.

    A page can include one part with ``{include}``'s ``:start-after:`` and
    ``:end-before:`` options (``<!-- results -->`` ... ``<!-- end results -->``,
    ``<!-- cost-model -->`` ... ``<!-- end cost-model -->``).
    """
    lines = [
        "<!-- results -->",
        "",
        "| case | shape | eager (ms) | eager, 1 thread (ms) | stock Inductor, C++ (ms) "
        "| ext, interpreted (ms) | ext without replay (ms) | ext without fast paths (ms) | ext on extdev (ms) "
        "| extdev / cpu | ext / eager | target | programs per call | first call (s) | launches while compiling |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for name, row in result["cases"].items():
        ratio, target = row["ext_over_eager"], row["target"]
        verdict = "met" if ratio <= target else "missed"
        shape = "×".join(str(s) for s in row["shape"]) if row["shape"][0] != 1 else str(row["shape"][1])
        cells = [CPU_LABELS.get(name, name), shape] + [
            _ms(row[key]) if key in row else "–"
            for key in ("eager_ms", "eager_1thread_ms", "stock_ms", "ext_ms", "ext_no_replay_ms", "ext_plain_ms",
                        "ext_extdev_ms")
        ] + [f"{row['extdev_over_cpu']:.2f}" if "extdev_over_cpu" in row else "–", f"{ratio:,.1f}×",
             f"≤ {target}× ({verdict})", str(row["programs_per_call"]),
             f"{row['first_call_s']:.2f}" if "first_call_s" in row else "–", str(row.get("compile_launches", "–"))]
        lines.append("| " + " | ".join(cells) + " |")
    load_note = _load_note(result)
    lines += [
        "",
        f"Measured {result['date']} on {result['machine']} with torch {result['torch']}, "
        f"triton {result['triton']} and numpy {result.get('numpy', '?')}: each number is the best of "
        f"{result['repeat']} interleaved rounds (the JSON also keeps the medians), and *ext / eager* "
        f"divides by the faster of the two eager columns.{load_note} "
        "Generated from `docs/results/benchmarks/cpu_interpreter.json`.",
        "",
        "<!-- end results -->",
        "",
    ]
    costs = result.get("cost_model")
    if costs:
        lines += [
            "<!-- cost-model -->",
            "",
            "| cost | measured | replayed | measured on |",
            "|---|--:|--:|---|",
            *([f"| fixed cost of one launch of one program instance | {costs['launch_ms']:.2f} ms "
               + (f"| {costs['launch_replayed_ms']:.2f} ms " if "launch_replayed_ms" in costs else "| – ")
               + "| a copy kernel on 16 elements |"] if "launch_ms" in costs else []),
            f"| fixed cost of one program instance | {costs['program_ms']:.2f} ms "
            + (f"| {costs['program_replayed_ms']:.3f} ms " if "program_replayed_ms" in costs else "| – ")
            + "| a copy kernel on 16 elements, 256 instances |",
            f"| one `tl` operation, whatever the block size | {costs['op_us']:.0f} µs "
            + (f"| {costs['op_replayed_us']:.1f} µs " if "op_replayed_us" in costs else "| – ")
            + "| one more `v + 1.0` on a 16-element block |",
            f"| one elementwise operation, per element | {costs['add_ns']:.2f} ns | same "
            "| one more `v + 1.0` on a 2²⁰-element block |",
            f"| load + store, per element, Triton's own | {costs['copy_ns_triton']:.0f} ns | same "
            "| a copy kernel on one 2²⁰-element block, fast paths off |",
            f"| load + store, per element, fast paths | {costs['copy_ns_fast']:.1f} ns | same "
            "| the same kernel, fast paths on |",
            "",
            f"Measured in the same run as the benchmark results ({result['date']}, {result['machine']}).",
            "",
            "<!-- end cost-model -->",
            "",
        ]
    return "\n".join(lines)


def cpu_plot(result: dict, path: str) -> None:
    """Milliseconds per call for each CPU case and column, log scale, as a PNG."""
    plt = _pyplot()
    names = list(result["cases"])
    columns = [("eager_ms", "eager"), ("eager_1thread_ms", "eager, 1 thread"), ("stock_ms", "stock Inductor (C++)"),
               ("ext_ms", "ext, interpreted"), ("ext_no_replay_ms", "ext without replay"),
               ("ext_plain_ms", "ext without fast paths"),
               ("ext_extdev_ms", "ext on extdev")]
    columns = [c for c in columns if all(c[0] in result["cases"][n] for n in names)]
    fig, ax = plt.subplots(figsize=(9.5, 4.6), dpi=110)
    width = 0.8 / len(columns)
    for i, (key, label) in enumerate(columns):
        xs = [j + (i - (len(columns) - 1) / 2) * width for j in range(len(names))]
        ax.bar(xs, [result["cases"][n][key] for n in names], width, label=label)
    ax.set_yscale("log")
    ax.set_ylabel("ms per call (log scale)")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels([n.replace("_", " ") for n in names], rotation=15)
    ax.set_title(f"best of {result['repeat']} rounds; {result['machine']}; torch {result['torch']}, "
                 f"triton {result['triton']}", fontsize=9)
    ax.legend(fontsize=8, ncols=len(columns), loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False)
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# ---------------------------------------------------------------- gpu_parity

def _yes(ok):
    return "n/a" if ok is None else ("yes" if ok else "**no**")


def gpu_markdown(result: dict) -> str:
    """The GPU parity result as Markdown (a pipe table with a short preamble), for MyST."""
    dev, ver, ceil = result["device"], result["versions"], result["ceilings"]
    t = result["targets"]
    lines = [
        f"Measured on **{dev['name']}** on {result['date'][:10]} with torch {ver['torch']}, "
        f"triton {ver['triton']} (ext_codegen {ver['ext_codegen']}"
        + (f", commit `{ver['git_commit']}`" if ver.get("git_commit") else "") + ").",
        f"Ceilings measured in the same run: device-to-device copy **{ceil['copy_gbps']:.0f} GB/s** "
        f"(bytes read + written), {ceil['matmul_shape']} matrix product **{ceil['matmul_tflops']:.0f} TFLOP/s**.",
        "",
        "| case | shape | dtype | stock ms | ext ms | ext/stock (round range) | achieved, ext | of ceiling "
        "| compile s stock / ext | compile ratio | same kernels | max rel. error |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|:-:|---:|",
    ]
    for row in result["cases"]:
        if "error" in row or "ratio" not in row:
            lines.append(f"| {row['name']} | {row.get('shape', '')} | | failed: "
                         f"{row.get('error', 'no result').splitlines()[0][:80].replace('|', '/')} "
                         "| | | | | | | | |")
            continue
        s, e = row["stock"], row["ext"]
        if row["bound"] == "memory":
            achieved = f"{e['gbps']:.0f} GB/s"
        else:
            achieved = f"{e['tflops']:.0f} TFLOP/s"
        frac = f"{100 * e['fraction_of_ceiling']:.0f} % (stock {100 * s['fraction_of_ceiling']:.0f} %)"
        lines.append(
            f"| {row['name']} | {row['shape']} | {row['dtype']} | {s['ms']:.4f} | {e['ms']:.4f} "
            f"| {row['ratio']:.3f} ({row['ratio_min']:.3f}–{row['ratio_max']:.3f}) | {achieved} | {frac} "
            f"| {s['compile_s_median']:.1f} / {e['compile_s_median']:.1f} | {row['compile_ratio']:.2f} "
            f"| {_yes(row['same_code'])} | {row['max_rel_err']:.1e}{'' if row['correct'] else ' **over tolerance**'} |"
        )
    ok = [r for r in result["cases"] if "ratio" in r]
    lines += [
        "",
        f"Targets: ext/stock ≤ {t['ratio_max']} (met by {sum(r['meets']['ratio'] for r in ok)} of {len(ok)} "
        f"cases), memory-bound cases ≥ {100 * t['bandwidth_min_fraction']:.0f} % of the copy ceiling "
        f"(met by {sum(r['meets'].get('bandwidth', False) for r in ok)} of "
        f"{sum('bandwidth' in r['meets'] for r in ok)}), compile ratio ≤ {t['compile_ratio_max']} "
        f"(met by {sum(r['meets']['compile_ratio'] for r in ok)} of {len(ok)}).",
        "",
    ]
    return "\n".join(lines)


def gpu_plot(result: dict, path: str) -> None:
    """Two panels: ext/stock time ratio per case, and each side's fraction of its ceiling."""
    plt = _pyplot()
    rows = [r for r in result["cases"] if "ratio" in r]
    names = [r["name"] for r in rows]
    y = list(range(len(rows)))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 0.45 * len(rows) + 1.8), sharey=True)
    ratios = [r["ratio"] for r in rows]
    lo = [r["ratio"] - r["ratio_min"] for r in rows]
    hi = [r["ratio_max"] - r["ratio"] for r in rows]
    ax1.barh(y, [x - 1 for x in ratios], left=1, xerr=[lo, hi], color="#4c72b0", capsize=3)
    ax1.axvline(1.0, color="black", lw=0.8)
    for v in (result["targets"]["ratio_max"], 2 - result["targets"]["ratio_max"]):
        ax1.axvline(v, color="#c44e52", ls="--", lw=0.8)
    span = max([0.02] + [abs(r["ratio_max"] - 1) for r in rows] + [abs(r["ratio_min"] - 1) for r in rows])
    ax1.set_xlim(1 - 1.2 * span, 1 + 1.2 * span)
    ax1.set_yticks(y, names)
    ax1.invert_yaxis()
    ax1.set_xlabel("median time, ext / stock (whiskers: range over rounds)", fontsize=9)
    ax1.set_title("Time ratio (dashed: ±1 % target)")
    h = 0.38
    for k, (side, color) in enumerate((("stock", "#8c8c8c"), ("ext", "#55a868"))):
        ax2.barh([v + (k - 0.5) * h for v in y], [100 * r[side]["fraction_of_ceiling"] for r in rows], height=h,
                 color=color, label=side)
    ax2.axvline(100 * result["targets"]["bandwidth_min_fraction"], color="#c44e52", ls="--", lw=0.8)
    ax2.set_xlabel("% of measured ceiling: copy (memory-bound), matmul (compute-bound)", fontsize=9)
    ax2.set_title("Against the measured ceilings (dashed: 90 %)")
    ax2.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=8, frameon=False)
    fig.suptitle(f"{result['device']['name']} — torch {result['versions']['torch']}, "
                 f"triton {result['versions']['triton']}, {result['date'][:10]}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ---------------------------------------------------------------- cpu_native

#: The targets of issue 21's point 7, as the summary names them.
NATIVE_TARGETS = [
    ("max_over_eager", "every case at most {t:g}× eager", "slowest case {v:.2f}×"),
    ("max_over_stock", "every case at most {t:g}× stock C++ Inductor", "slowest case {v:.2f}×"),
    ("median_over_eager", "median case at most {t:g}× eager", "median {v:.2f}×"),
    ("median_over_stock", "median case at most {t:g}× stock C++ Inductor", "median {v:.2f}×"),
    ("compile_median_ms", "compiling one kernel at most {t:g} ms at the median", "median {v:.0f} ms"),
    ("first_call_over_interpreter_s", "first call within {t:g} s of the interpreted first call",
     "worst case {v:+.2f} s"),
    ("peak_memory_over_stock", "peak resident memory at most {t:g}× stock C++ Inductor's", "{v:.2f}×"),
]
#: where the summary keeps the number each target is judged on
NATIVE_VALUE = {"first_call_over_interpreter_s": "first_call_max_over_interpreter_s"}


def _opt_ms(row: dict, key: str) -> str:
    """Milliseconds to three significant digits below 1 ms (the small cases are 0.03 ms in eager)."""
    if key not in row:
        return "–"
    return f"{row[key]:.3f}" if row[key] < 1 else _ms(row[key])


def native_markdown(result: dict) -> str:
    """The native benchmark as MyST Markdown: the timing table, the targets, the memory table, between markers.

    ``<!-- results -->`` ... ``<!-- end results -->`` holds all three, so a page
    includes them with ``{include}``'s ``:start-after:`` and ``:end-before:``.
    """
    lines = [
        "<!-- results -->",
        "",
        "| case | shape | eager (ms) | stock C++ Inductor (ms) | interpreter (ms) | native (ms) "
        "| native / eager | native / stock | first call, interpreter / native (s) | kernels native "
        "| compile per kernel (ms) |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for name, row in result["cases"].items():
        shape = "×".join(str(s) for s in row["shape"]) if row["shape"][0] != 1 else str(row["shape"][1])
        compile_ms = row.get("compile_ms") or []
        first = (f"{row['interpreter_first_call_s']:.2f} / {row['native_first_call_s']:.2f}"
                 if "interpreter_first_call_s" in row else f"– / {row['native_first_call_s']:.2f}")
        wrong = "" if row.get("native_matches_eager", True) else " (**wrong result**)"
        cells = [CPU_LABELS.get(name, name), shape, _opt_ms(row, "eager_reference_ms"), _opt_ms(row, "stock_ms"),
                 _opt_ms(row, "interpreter_ms"), _opt_ms(row, "native_ms") + wrong,
                 f"{row['native_over_eager']:.2f}", f"{row['native_over_stock']:.2f}", first,
                 f"{row['kernels_native']} of {len(row['kernels'])}",
                 ", ".join(f"{ms:.0f}" for ms in compile_ms) or "–"]
        lines.append("| " + " | ".join(cells) + " |")
    s, targets = result["summary"], result["targets"]
    load_note = _load_note(result)
    lines += [
        "",
        f"Measured {result['date']} on {result['machine']} with torch {result['torch']}, triton "
        f"{result['triton']} and {result['gcc']}, {result['torch_threads']} threads: the median of "
        f"{result['rounds']} interleaved rounds of eager, stock and native ({result['interpreter_rounds']} "
        "rounds of eager and the interpreter, in their own process), each round a sample of at least 5 ms; "
        "*eager* is the faster of its medians in the two processes. "
        f"Kernels compiled natively: {s['kernels_native']} of {s['kernels']}; launches run natively: "
        f"{s['launches_native_per_call']} of {s['launches_per_call']} per call of all the cases. "
        f"Compile per kernel: Triton IR passes and lowering to C, `gcc` and link, and loading the library, "
        f"with empty caches.{load_note} Generated from `docs/results/benchmarks/cpu_native.json`.",
        "",
        "| target (issue 21, point 7) | measured | met |",
        "|---|---|---|",
    ]
    for key, what, measured in NATIVE_TARGETS:
        value = s.get(NATIVE_VALUE.get(key, key))
        if key not in targets or value is None:
            continue
        met = s["met"].get(key)
        extra = ""
        if key == "max_over_eager":
            extra = f" ({s['cases_within_3x_eager']} of {s['cases']} cases within)"
        elif key == "max_over_stock":
            extra = f" ({s['cases_within_3x_stock']} of {s['cases']} cases within)"
        lines.append(f"| {what.format(t=targets[key])} | {measured.format(v=value)}{extra} "
                     f"| {'yes' if met else '**no**'} |")
    memory = result.get("memory") or {}
    if memory.get("backends"):
        stock = memory["backends"].get("stock", {}).get("peak_mb")
        lines += [
            "",
            f"Peak resident memory, `{memory['function']}` on {memory['shape'][0]}×{memory['shape'][1]} float32 "
            f"({memory['megabytes_per_tensor']:.0f} MB a tensor), called twice in a fresh process per backend "
            "(`ru_maxrss`; *before the call* is the process with torch imported and the inputs made):",
            "",
            "| backend | peak (MB) | before the call (MB) | peak / stock | second call (s) | launches run natively |",
            "|---|--:|--:|--:|--:|--:|",
        ]
        names = {"eager": "eager", "stock": "stock C++ Inductor", "interpreter": "interpreter", "native": "native"}
        for backend, row in memory["backends"].items():
            if "error" in row:
                lines.append(f"| {names.get(backend, backend)} | {row['error']} | | | | |")
                continue
            ratio = f"{row['peak_mb'] / stock:.2f}" if stock else "–"
            lines.append(f"| {names.get(backend, backend)} | {row['peak_mb']:,.0f} | {row['baseline_mb']:,.0f} "
                         f"| {ratio} | {row['call_s']:.3f} | {row.get('native_launches', 0)} of {row.get('launches', 0)} |")
        reasons = sorted({r for row in memory["backends"].values() for r in row.get("fallbacks", {})})
        if reasons:
            lines += ["", "Kernels of the large case that fell back to the interpreter on the native path: "
                      + "; ".join(f"`{r}`" for r in reasons) + "."]
    lines += ["", "<!-- end results -->", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------- all results

#: result name (``docs/results/benchmarks/<name>.json``) -> (table, plot or None)
RENDERERS = {"cpu_interpreter": (cpu_markdown, cpu_plot), "gpu_parity": (gpu_markdown, gpu_plot),
             "cpu_native": (native_markdown, None)}


def render_all(out_dir: str, results: str = RESULTS) -> list[str]:
    """Write ``<name>.md`` (and ``<name>.png`` where it has a plot) for every result in *results*; return the paths written."""
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for name, (markdown, plot) in RENDERERS.items():
        md_path = os.path.join(out_dir, f"{name}.md")
        json_path = os.path.join(results, f"{name}.json")
        if not os.path.exists(json_path):
            text = f"*No results committed yet: run `python benchmarks/{name}.py`.*\n"
        else:
            with open(json_path) as f:
                result = json.load(f)
            text = markdown(result)
            if plot is not None:
                png = os.path.join(out_dir, f"{name}.png")
                plot(result, png)
                written.append(png)
        with open(md_path, "w") as f:
            f.write(text)
        written.append(md_path)
    return written


def _builder_inited(app) -> None:
    render_all(os.path.join(app.srcdir, "_generated"))


def setup(app):
    """Sphinx entry point: render the results when a build starts."""
    app.connect("builder-inited", _builder_inited)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    for path in render_all(os.path.join(DOCS, "_generated")):
        print(path)
