"""Markdown tables of the probes' logs: python3 bench/learning/tables.py [--every=K] [--reach] runs/*.jsonl
(K: every K-th warm-up row; --reach: one summary row per warm-up log: samples and CPU-s to first reach each
held-out accuracy bar, and the accuracy at fixed sample budgets; --rl-summary: one row per RL log)."""
import json
import sys

COLS = ("all", "count", "compare", "arith2", "arith3")
BARS = (0.40, 0.50, 0.60)
BUDGETS = (32000, 64000, 96000, 128000)

options = [a for a in sys.argv[1:] if a.startswith("--")]
paths = [a for a in sys.argv[1:] if not a.startswith("--")]
EVERY = next((int(a[8:]) for a in options if a.startswith("--every=")), 1)


def read(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    head = rows[0] if "config" in rows[0] else None
    return head, rows[1:] if head else rows


def warmup_recipe(config) -> str:
    parts = [f"lr {config['lr']}", f"batch {config['batch']}", f"seed {config['seed']}"]
    if config.get("kernel_init", "gpt2") != "gpt2":
        parts.append(f"kernel init {config['kernel_init']}")
    if config.get("init_gain") is not None:
        parts.append(f"kernels gain {config['init_gain']}/sqrt(fan_in)" + (f" on {config['init_only']} only" if config.get("init_only") else ""))
    if config.get("embed_std") is not None:
        parts.append(f"embeddings std {config['embed_std']}")
    if config.get("init"):
        parts.append(f"from {config['init'].rstrip('/').split('/')[-2]}/{config['init'].rstrip('/').split('/')[-1]} (fresh Adam)")
    for key, label in (("memory_norm", "memory norm"), ("warmup_steps", "lr warm-up steps"), ("clip_norm", "clip")):
        if config.get(key):
            parts.append(f"{label} {config[key]}")
    if config.get("loss", "token") != "token":
        parts.append(f"{config['loss']}-mean loss")
    return ", ".join(parts)


if "--rl-summary" in options:
    print("| run | P x G | base | best | final | gain | steps | rollouts | train s (wall) | CPU-s | rollouts/CPU-s | load start -> end |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for path in paths:
        head, rows = read(path)
        c = head["config"]
        checks = [r for r in rows if not r.get("final")]
        final = next((r for r in rows if r.get("final")), None)
        if final is None:
            continue
        last = checks[-1]
        print(f"| {path.split('/')[-1][3:-6]}{' KL ' + str(c['kl']) if c['kl'] else ''} | {c['prompts']} x {c['group']} | {checks[0]['all']:.3f} | "
              f"{max(r['all'] for r in checks):.3f} | {final['all']:.3f} | {final['all'] - checks[0]['all']:+.3f} | {last['step']} | {last['rollouts']} | "
              f"{last['train_s']} | {last['cpu_s']} | {last['rollouts'] / last['cpu_s']:.0f} | {checks[0]['load'].split()[0]} -> {last['load'].split()[0]} |")
    sys.exit(0)

if "--reach" in options:
    print("| log | recipe | " + " | ".join(f"samples (CPU-s) to {b:.2f}" for b in BARS) + " | "
          + " | ".join(f"all / count at {n // 1000}k" for n in BUDGETS) + " |")
    print("|---|---|" + "---|" * (len(BARS) + len(BUDGETS)))
    for path in paths:
        head, rows = read(path)
        reach = []
        for bar in BARS:
            hit = next((r for r in rows if r["all"] >= bar), None)
            reach.append(f"{hit['samples'] // 1000}k ({hit['cpu_s']:.0f})" if hit else f"not by {rows[-1]['samples'] // 1000}k")
        at = []
        for n in BUDGETS:
            row = next((r for r in rows if r["samples"] == n), None)
            at.append(f"{row['all']:.3f} / {row['count']:.3f}" if row else "-")
        recipe = warmup_recipe(head["config"]) if head else "lr 0.003, batch 64, seed 1 (400-task checks)"
        print(f"| {path.split('/')[-1][:-6]} | {recipe} | " + " | ".join(reach) + " | " + " | ".join(at) + " |")
    sys.exit(0)

for path in paths:
    head, rows = read(path)
    print(f"\n#### {path}\n")
    if head and "estimator" in head["config"]:
        c = head["config"]
        print(f"base {c['base'].split('/')[-1]}, {c['estimator']}, P {c['prompts']} x G {c['group']}, T {c['temperature']}, lr {c['lr']}, "
              f"epochs {c['epochs']}, minibatches {c['minibatches']}, clip {c['clip']}, KL {c['kl']}, seed {c['seed']}; start load {head['load']}\n")
        print("| step | rollouts | train s | CPU s | load | train acc (sampled) | " + " | ".join(COLS) + " |")
        print("|---|---|---|---|---|---|" + "---|" * len(COLS))
        for r in rows:
            tag = "final (1000)" if r.get("final") else r["step"]
            print(f"| {tag} | {r['rollouts']} | {r['train_s']} | {r.get('cpu_s', '')} | {r.get('load', '')} | {r.get('train_acc', '')} | "
                  + " | ".join(f"{r[k]:.3f}" for k in COLS) + " |")
    else:
        if head:
            print(f"warm-up: {warmup_recipe(head['config'])}; start load {head['load']}\n")
        print("| samples | wall s | CPU s | load | train loss | " + " | ".join(COLS) + " |")
        print("|---|---|---|---|---|" + "---|" * len(COLS))
        for i, r in enumerate(rows):
            if i % EVERY and i != len(rows) - 1:
                continue
            loss = r.get("loss")
            print(f"| {r['samples']} | {r['wall_s']} | {r['cpu_s']} | {r['load']} | {'' if loss is None else loss} | " + " | ".join(f"{r[k]:.3f}" for k in COLS) + " |")
