"""Markdown tables of the probes' logs: python3 bench/learning/tables.py [--every=K] runs/*.jsonl (K: every K-th warm-up row)"""
import json
import sys

COLS = ("all", "count", "compare", "arith2", "arith3")

EVERY = int(sys.argv[1][8:]) if sys.argv[1].startswith("--every=") else 1
for path in [a for a in sys.argv[1:] if not a.startswith("--")]:
    rows = [json.loads(line) for line in open(path) if line.strip()]
    print(f"\n#### {path}\n")
    head = rows[0]
    if "config" in head:
        c = head["config"]
        print(f"base {c['base'].split('/')[-1]}, {c['estimator']}, P {c['prompts']} x G {c['group']}, T {c['temperature']}, lr {c['lr']}, "
              f"epochs {c['epochs']}, minibatches {c['minibatches']}, clip {c['clip']}, KL {c['kl']}, seed {c['seed']}; start load {head['load']}\n")
        rows = rows[1:]
        print("| step | rollouts | train s | CPU s | load | train acc (sampled) | " + " | ".join(COLS) + " |")
        print("|---|---|---|---|---|---|" + "---|" * len(COLS))
        for r in rows:
            tag = "final (1000)" if r.get("final") else r["step"]
            print(f"| {tag} | {r['rollouts']} | {r['train_s']} | {r.get('cpu_s', '')} | {r.get('load', '')} | {r.get('train_acc', '')} | "
                  + " | ".join(f"{r[k]:.3f}" for k in COLS) + " |")
    else:
        print("| samples | wall s | CPU s | load | " + " | ".join(COLS) + " |")
        print("|---|---|---|---|" + "---|" * len(COLS))
        for i, r in enumerate(rows):
            if i % EVERY and i != len(rows) - 1:
                continue
            print(f"| {r['samples']} | {r['wall_s']} | {r['cpu_s']} | {r['load']} | " + " | ".join(f"{r[k]:.3f}" for k in COLS) + " |")
