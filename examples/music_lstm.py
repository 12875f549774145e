"""The music-generation lab: a character-level LSTM on Irish folk tunes in ABC notation (~200 KB,
804 tunes, 83 distinct characters, read from a local file: no download), Embedding(83, 256) -
LSTM(256 -> 1024, one layer, batch_first) - Linear(1024, 83), trained to predict each next
character with CrossEntropyLoss + Adam (lr 5e-3) on batches of 8 random 100-character windows,
the gradient norm clipped to 5. `--steps 300` takes the training loss (mean of the last 20 steps)
from ln 83 = 4.42 to below 2.0 by step ~30 and to 1.22 at step 300 (seed 0; ~0.5 s a step on two
cores, so ~3 minutes; the default 2,000 steps take ~18). Then it writes new music:
starting from "X:" it samples one character at a time from softmax(logits / temperature),
carrying the LSTM state (h, c) from each character to the next, and writes the text to
<out-dir>/generated.abc (paste it into any ABC player, e.g. abcjs.net, to hear it).

Shows a tqdm bar with the loss, prints the median time per training step and, when torch is
installed, trains the identical model in torch for a few steps (same initial weights, batches
and thread count) and prints its time per step next to ours. Saves a checkpoint (model, Adam
state, step, loss history and the batch RNG state, in turbonn's safetensors format) every
--save-every steps and at the end, `--resume` continues from one exactly where it stopped, and
a loss-curve PNG is drawn when matplotlib is installed.

    python examples/music_lstm.py [PATH] --steps 2000 --seed 0 [--no-torch]
    python examples/music_lstm.py --resume OUT_DIR/music_lstm.safetensors --steps 3000
PATH defaults to ../shared/data/irish.abc relative to the repository root. --steps is the total
to reach: a resumed run trains from the checkpoint's step up to it (the architecture and the
vocabulary come from the checkpoint; the other options from the command line).
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import turbonn as tn
import turbonn.nn.functional as F
from turbonn import nn

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "irish.abc"
CHECKPOINT = "music_lstm.safetensors"
LAST = 20  # the reported loss is the mean of the last LAST step losses


def load_text(path: Path) -> tuple[str, str, np.ndarray]:
    """(text, vocab, indices): vocab is the sorted set of the file's characters, indices the
    text encoded as int64 positions in it."""
    text = path.read_text(encoding="utf-8")
    if len(text) < 2:
        sys.exit(f"{path}: needs at least 2 characters of ABC text")
    vocab = "".join(sorted(set(text)))
    index = {ch: i for i, ch in enumerate(vocab)}
    return text, vocab, np.array([index[ch] for ch in text], np.int64)


def get_batch(data: np.ndarray, batch: int, seq: int, rng: np.random.Generator):
    """``batch`` random windows of seq + 1 characters: (inputs, targets), each (batch, seq)
    int64, the targets the inputs shifted by one character."""
    starts = rng.integers(0, len(data) - seq, size=batch)
    windows = data[starts[:, None] + np.arange(seq + 1)]
    return np.ascontiguousarray(windows[:, :-1]), np.ascontiguousarray(windows[:, 1:])


def char_lstm(mod, vocab_size: int, embed: int, hidden: int):
    """The model, built from ``mod`` (turbonn.nn or torch.nn: the same layers and state_dict
    names). ``forward(x, state=None)`` -> (logits (B, T, vocab), (h, c) each (1, B, hidden))."""

    class CharLSTM(mod.Module):
        def __init__(self):
            super().__init__()
            self.embedding = mod.Embedding(vocab_size, embed)
            self.lstm = mod.LSTM(embed, hidden, num_layers=1, batch_first=True)
            self.linear = mod.Linear(hidden, vocab_size)

        def forward(self, x, state=None):
            e = self.embedding(x)
            out, state = self.lstm(e) if state is None else self.lstm(e, state)
            return self.linear(out), state

    return CharLSTM()


def draw_next(logits, temperature: float, rng: np.random.Generator) -> int:
    """A character index drawn from softmax(logits[0, -1] / temperature) (the last position)."""
    z = np.asarray(logits.numpy()[0, -1], np.float64) / temperature
    p = np.exp(z - z.max())
    return int(rng.choice(len(p), p=p / p.sum()))


def sample(model, vocab: str, prime: str, length: int, temperature: float,
           rng: np.random.Generator) -> str:
    """``prime`` followed by ``length`` characters drawn one at a time from softmax(logits / T),
    the LSTM state carried from each character to the next (the prime is read in one pass)."""
    index = {ch: i for i, ch in enumerate(vocab)}
    out = list(prime)
    model.eval()
    with tn.no_grad():
        logits, state = model(np.array([[index[ch] for ch in prime]], np.int64))
        for _ in range(length):
            k = draw_next(logits, temperature, rng)
            out.append(vocab[k])
            logits, state = model(np.array([[k]], np.int64), state)
    model.train()
    return "".join(out)


def write_tunes(generated: str, path: str, length: int, temperature: float) -> None:
    """Writes the sampled text (``length`` characters after the prime) to ``path``, ending in a
    newline, and prints it."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(generated if generated.endswith("\n") else generated + "\n")
    print(f"generated ({length} characters, temperature {temperature}) -> {path}:\n{generated}")


def train_torch(torch, init_state, data, rng_state, steps, batch, seq, lr, clip, threads):
    """The same model, initial weights, optimizer (Adam state fresh), clipping and batches in torch.
    Returns (per-step seconds, per-step losses)."""
    torch.set_num_threads(threads)
    vocab_size, embed = init_state["embedding.weight"].shape
    model = char_lstm(torch.nn, vocab_size, embed, init_state["lstm.weight_hh_l0"].shape[1])
    model.load_state_dict({k: torch.from_numpy(np.array(v, np.float32))
                           for k, v in init_state.items()})
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng()
    rng.bit_generator.state = rng_state
    times, losses = [], []
    for _ in range(steps):
        x, y = (torch.from_numpy(a) for a in get_batch(data, batch, seq, rng))
        start = time.perf_counter()
        optimizer.zero_grad()
        logits, _ = model(x)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab_size), y.reshape(-1))
        loss.backward()
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        losses.append(loss.item())
        times.append(time.perf_counter() - start)
    return np.asarray(times), np.asarray(losses)


def plot_curves(curves, path: str, xlabel: str = "step", title: str = "music_lstm"):
    """Training loss, faint per step and as its running mean over LAST steps, one line per
    (label, losses, x) in ``curves`` (x: step numbers or wall-clock seconds; matplotlib, no
    pyplot). transformer_music.py draws its comparison with it too."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("the loss plot needs matplotlib: pip install matplotlib") from None
    fig = Figure(figsize=(6.4, 3.8))
    ax = fig.subplots()
    for label, losses, x in curves:
        losses, x = np.asarray(losses, np.float64), np.asarray(x, np.float64)
        line, = ax.plot(x, losses, lw=0.6, alpha=0.4)
        if len(losses) >= LAST:
            mean = np.convolve(losses, np.ones(LAST) / LAST, mode="valid")
            ax.plot(x[LAST - 1:], mean, lw=1.6, color=line.get_color(),
                    label=f"{label} (mean of last {LAST})")
        else:
            line.set_label(label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("cross entropy (nats / character)")
    ax.set_title(f"{title}: training loss")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("path", nargs="?", default=str(DEFAULT_DATA.resolve()),
                   help="ABC text file (default: %(default)s)")
    p.add_argument("--steps", type=int, default=2000,
                   help="total training steps to reach (default %(default)s; 300 take the loss "
                        "from 4.42 to ~1.2)")
    p.add_argument("--seed", type=int, default=0, help="init, batches and sampling")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq", type=int, default=100, help="characters per training window")
    p.add_argument("--embed", type=int, default=256, help="embedding size")
    p.add_argument("--hidden", type=int, default=1024, help="LSTM hidden size")
    p.add_argument("--lr", type=float, default=5e-3, help="Adam learning rate")
    p.add_argument("--clip", type=float, default=5.0,
                   help="max gradient norm (clip_grad_norm_), 0: no clipping (default %(default)s)")
    p.add_argument("--save-every", type=int, default=100,
                   help="checkpoint every N steps, 0: only at the end (default %(default)s)")
    p.add_argument("--resume", metavar="CHECKPOINT",
                   help="continue from a checkpoint this script saved")
    p.add_argument("--prime", default="X:",
                   help="text the generated music starts from (\\n for a newline; default X:)")
    p.add_argument("--sample-len", type=int, default=600, help="characters to generate")
    p.add_argument("--temperature", type=float, default=1.0,
                   help="softmax temperature for sampling: < 1 safer, > 1 wilder")
    p.add_argument("--torch-steps", type=int, default=20,
                   help="steps the torch comparison trains and times (default %(default)s)")
    p.add_argument("--no-torch", action="store_true", help="skip the torch comparison")
    p.add_argument("--out-dir",
                   default=os.path.join(tempfile.gettempdir(), "turbonn-examples", "music_lstm"),
                   help="the checkpoint (music_lstm.safetensors), the loss plot and "
                        "generated.abc go here (default: %(default)s)")
    p.add_argument("--no-progress", action="store_true", help="no tqdm bar")
    args = p.parse_args(argv)
    for name, least in (("steps", 0), ("batch", 1), ("seq", 1), ("embed", 1), ("hidden", 1),
                        ("save_every", 0), ("sample_len", 0), ("torch_steps", 0)):
        if getattr(args, name) < least:
            p.error(f"--{name.replace('_', '-')} must be >= {least}")
    if not args.temperature > 0:
        p.error("--temperature must be > 0")
    try:
        from tqdm import tqdm
    except ImportError:
        sys.exit("music_lstm needs tqdm for its progress bar: pip install tqdm")

    path = Path(args.path)
    if not path.is_file():
        sys.exit(f"no ABC file at {path}: pass the path to irish.abc")
    text, vocab, data = load_text(path)
    if len(data) <= args.seq:
        sys.exit(f"{path}: {len(data)} characters, --seq {args.seq} needs more")
    prime = args.prime.replace("\\n", "\n")
    unknown = sorted(set(prime) - set(vocab))
    if not prime or unknown:
        sys.exit(f"--prime: needs at least one character, all from the vocabulary "
                 f"(not in it: {''.join(unknown)!r})")
    print(f"{path.name}: {len(text):,} characters, {text.count('X:')} tunes, vocabulary of "
          f"{len(vocab)} (chance loss ln {len(vocab)} = {math.log(len(vocab)):.2f})")

    ckpt = None
    if args.resume:
        ckpt = tn.load(args.resume)
        if not isinstance(ckpt, dict) or not {"model", "optimizer", "rng", "losses", "vocab",
                                              "embed", "hidden"} <= ckpt.keys():
            sys.exit(f"--resume: {args.resume} is not a checkpoint saved by music_lstm.py")
        if ckpt["vocab"] != vocab:
            sys.exit(f"--resume: {args.resume} was trained on another vocabulary than {path}'s")
        args.embed, args.hidden = int(ckpt["embed"]), int(ckpt["hidden"])
    tn.manual_seed(args.seed)
    model = char_lstm(nn, len(vocab), args.embed, args.hidden)
    optimizer = tn.optim.Adam(model.parameters(), lr=args.lr)
    rng = np.random.default_rng(args.seed)  # the batches
    losses: list[float] = []
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        for group in optimizer.param_groups:
            group["lr"] = args.lr
        rng.bit_generator.state = ckpt["rng"]
        losses = [float(v) for v in ckpt["losses"]]
        print(f"resumed from {args.resume} at step {len(losses)}")
    n_params = sum(int(np.prod(q.shape)) for q in model.parameters())
    print(f"model: Embedding({len(vocab)}, {args.embed}) - LSTM({args.embed}, {args.hidden}) - "
          f"Linear({args.hidden}, {len(vocab)}), {n_params:,} parameters; batch {args.batch} x "
          f"{args.seq} characters, Adam lr {args.lr}, clip {args.clip}")

    start_state = {k: np.array(v, copy=True) for k, v in model.state_dict().items()}
    start_rng = rng.bit_generator.state  # a fresh dict: the torch run replays these batches
    os.makedirs(args.out_dir, exist_ok=True)
    ckpt_path = os.path.join(args.out_dir, CHECKPOINT)

    def save_checkpoint():
        tn.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                 "rng": rng.bit_generator.state, "losses": np.asarray(losses, np.float32),
                 "vocab": vocab, "embed": args.embed, "hidden": args.hidden}, ckpt_path)

    first, times = len(losses), []
    model.train()
    bar = tqdm(range(first, args.steps), initial=first, total=max(args.steps, first),
               desc="turbonn", unit="step", dynamic_ncols=True, disable=args.no_progress)
    for step in bar:
        x, y = get_batch(data, args.batch, args.seq, rng)
        start = time.perf_counter()
        optimizer.zero_grad()
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, len(vocab)), y.reshape(-1))
        loss.backward()
        if args.clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        optimizer.step()
        losses.append(loss.item())
        times.append(time.perf_counter() - start)
        if not math.isfinite(losses[-1]):
            bar.close()
            sys.exit(f"step {step + 1}: the loss is {losses[-1]}: training diverged")
        bar.set_postfix(loss=f"{np.mean(losses[-LAST:]):.3f}", refresh=False)
        if args.save_every and (step + 1) % args.save_every == 0 and step + 1 < args.steps:
            save_checkpoint()
    bar.close()
    save_checkpoint()
    final = float(np.mean(losses[-LAST:])) if losses else float("nan")
    times = np.asarray(times)
    step_time = float(np.median(times)) if len(times) else None
    print(f"step {len(losses)}: loss {final:.4f} (mean of the last {min(LAST, len(losses))} "
          f"steps); checkpoint: {ckpt_path}")
    if step_time is not None:
        print(f"time per step: median {1000 * step_time:.1f} ms, mean "
              f"{1000 * times.mean():.1f} ms ({len(times)} steps, "
              f"{args.batch * args.seq / step_time:,.0f} characters/s, "
              f"{tn.get_num_threads()} threads)")

    torch_time = None
    if not args.no_torch and args.torch_steps > 0:
        try:
            import torch
        except ImportError:
            torch = None
            print("torch is not installed: comparison skipped")
        if torch is not None:
            ttimes, tlosses = train_torch(torch, start_state, data, start_rng, args.torch_steps,
                                          args.batch, args.seq, args.lr, args.clip,
                                          tn.get_num_threads())
            torch_time = float(np.median(ttimes))
            print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), same model, "
                  f"initial weights and batches: time per step median "
                  f"{1000 * torch_time:.1f} ms ({len(ttimes)} steps)")
            k = min(len(tlosses), len(times)) if first == 0 else 0  # torch's Adam starts fresh
            if k:
                ours = np.asarray(losses[first:first + k])
                print(f"loss over the first {k} steps: max |turbonn - torch| = "
                      f"{np.abs(ours - tlosses[:k]).max():.2e} (step {first + k}: turbonn "
                      f"{ours[-1]:.4f}, torch {tlosses[k - 1]:.4f})")
            if step_time is not None:
                print(f"time per step (median): turbonn {1000 * step_time:.1f} ms, torch "
                      f"{1000 * torch_time:.1f} ms (torch / turbonn = "
                      f"{torch_time / step_time:.2f})")

    if losses:
        try:
            png = plot_curves([("LSTM", losses, np.arange(1, len(losses) + 1))],
                              os.path.join(args.out_dir, "music_lstm.png"))
            print(f"plot: {png}")
        except ImportError as e:
            print(f"no plot ({e})")

    generated = sample(model, vocab, prime, args.sample_len, args.temperature,
                       np.random.default_rng(args.seed))
    abc_path = os.path.join(args.out_dir, "generated.abc")
    write_tunes(generated, abc_path, args.sample_len, args.temperature)
    return {"loss": final, "losses": losses, "vocab_size": len(vocab), "step_time": step_time,
            "torch_step_time": torch_time, "checkpoint": ckpt_path, "generated": generated,
            "abc": abc_path}


if __name__ == "__main__":
    main()
