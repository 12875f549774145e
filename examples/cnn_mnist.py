"""A LeNet-style CNN on 5,000 MNIST digits read from a local CSV (no download): conv 5x5 (6,
padding 2) - ReLU - maxpool 2 - conv 5x5 (16) - ReLU - maxpool 2 - 400-120-84-10 ReLU MLP,
CrossEntropyLoss + Adam (learning rate cosine-decayed to 0) through turbonn.fit, with the
training images shifted at random by up to 1 pixel each epoch, to >= 97% test accuracy on the
1,000 held-out digits (seeds 0-2: 97.8-98.0%; ~96% without the shifts: 4,000 digits overfit).
Prints the time per epoch and, when torch is installed, trains the identical network in torch
(same initial weights, shifts, batch size, schedule and thread count; its own shuffling) and
prints its time per epoch next to ours. Saves a loss/accuracy plot (when matplotlib is installed).

    python examples/cnn_mnist.py [PATH] --epochs 15 --seed 0 [--no-torch]
PATH defaults to ../shared/data/mnist_5k.csv.gz relative to the repository root. When no data
file is found there, it runs on scikit-learn's bundled 8x8 digits (load_digits, 1,797 images)
instead: each image is upsampled 3x (nearest neighbour) to 24x24 and zero-padded by 2 pixels to
28x28, so the very same LeNet trains on it unchanged (an 80/20 split: 1,437 train / 360 test).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import turbonn as tn
from mnist_data import DEFAULT_DATA, ShiftEachEpoch, load_mnist, random_shift
from turbonn import nn

def load_digits_28():
    """scikit-learn's 8x8 digits (values 0-16) as (N, 1, 28, 28) float32 in [0, 1]: each pixel
    repeated 3x3 (24x24), then a 2-pixel zero border, like MNIST's centred digits."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        sys.exit("no MNIST file and no scikit-learn for the fallback: pass the path to "
                 "mnist_5k.csv.gz or pip install scikit-learn")
    x, y = load_digits(return_X_y=True)
    x = (x.reshape(-1, 8, 8) / 16.0).astype(np.float32)
    x = np.kron(x, np.ones((1, 3, 3), np.float32))               # (N, 24, 24)
    x = np.pad(x, ((0, 0), (2, 2), (2, 2)))[:, None]             # (N, 1, 28, 28)
    return x, y.astype(np.int64)


def lenet(mod):
    """The LeNet-5-like network, built from ``mod`` (turbonn.nn or torch.nn: the same layers)."""
    return mod.Sequential(
        mod.Conv2d(1, 6, 5, padding=2), mod.ReLU(), mod.MaxPool2d(2),   # 6 x 14 x 14
        mod.Conv2d(6, 16, 5), mod.ReLU(), mod.MaxPool2d(2),              # 16 x 5 x 5
        mod.Flatten(),
        mod.Linear(400, 120), mod.ReLU(),
        mod.Linear(120, 84), mod.ReLU(),
        mod.Linear(84, 10))


def train_torch(torch, init_state, train, test, epochs, batch_size, lr, shift, seed, threads):
    """The same network, initial weights, optimizer and random shifts in torch; one timed epoch =
    shuffled batches of the training set then one pass over the test set (as turbonn.fit times
    an epoch; the shift itself, done before the epoch starts, is timed by neither).
    Returns (per-epoch seconds, final test accuracy)."""
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    model = lenet(torch.nn)
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v))
                           for k, v in init_state.items()})
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    loss_fn = torch.nn.CrossEntropyLoss()
    shifted = train[0].copy()
    shift_rng = np.random.default_rng(seed)  # the same shifts as ShiftEachEpoch draws
    x, y = torch.from_numpy(shifted), torch.from_numpy(train[1])  # x shares shifted's memory
    xt, yt = torch.from_numpy(test[0]), torch.from_numpy(test[1])
    rng = np.random.default_rng(seed)
    times, acc = [], float("nan")
    for _ in range(epochs):
        if shift > 0:
            random_shift(train[0], shift, shift_rng, out=shifted)
        start = time.perf_counter()
        model.train()
        for idx in np.array_split(rng.permutation(len(x)), -(-len(x) // batch_size)):
            idx = torch.from_numpy(idx)
            optimizer.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            correct = 0
            for i in range(0, len(xt), batch_size):
                correct += int((model(xt[i:i + batch_size]).argmax(1) == yt[i:i + batch_size])
                               .sum())
        acc = correct / len(xt)
        times.append(time.perf_counter() - start)
        scheduler.step()
    return np.asarray(times), acc


def main(argv=None) -> float:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("path", nargs="?", default=str(DEFAULT_DATA.resolve()),
                   help="mnist_5k.csv.gz (default: %(default)s); when absent, scikit-learn's "
                        "8x8 digits padded to 28x28 are used instead")
    p.add_argument("--digits", action="store_true",
                   help="use scikit-learn's 8x8 digits even when the MNIST file exists")
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--seed", type=int, default=0, help="split, init and shuffling")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3,
                   help="initial Adam learning rate, cosine-decayed to 0 (default %(default)s)")
    p.add_argument("--shift", type=int, default=1, help="max random shift in pixels, 0: none")
    p.add_argument("--compare-torch", dest="compare_torch", action="store_true", default=None,
                   help="also train the same network in torch (default: on when torch imports)")
    p.add_argument("--no-torch", dest="compare_torch", action="store_false",
                   help="skip the torch comparison")
    p.add_argument("--out-dir", default=os.path.join(tempfile.gettempdir(), "turbonn-examples"),
                   help="where the plot goes (default: %(default)s)")
    p.add_argument("--verbose", type=int, default=2, choices=(0, 1, 2),
                   help="0 silent, 1 progress bars, 2 one line per epoch (default)")
    args = p.parse_args(argv)

    t0 = time.perf_counter()
    if not args.digits and Path(args.path).is_file():
        x, y = load_mnist(Path(args.path))
        x = x.reshape(-1, 1, 28, 28)
        name, n_train = "MNIST", 4000
    else:
        if not args.digits:
            print(f"no data at {args.path}: using scikit-learn's 8x8 digits padded to 28x28")
        x, y = load_digits_28()
        name, n_train = "digits (8x8 -> 28x28)", int(0.8 * len(x))
    perm = np.random.default_rng(args.seed).permutation(len(x))  # MNIST rows are sorted by label
    x, y = x[perm], y[perm]
    train, test = (x[:n_train], y[:n_train]), (x[n_train:n_train + 1000], y[n_train:n_train + 1000])
    print(f"{name}: {len(train[0])} train / {len(test[0])} test images "
          f"(loaded in {time.perf_counter() - t0:.1f} s)")

    torch = None
    if args.compare_torch is not False:
        try:
            import torch
        except ImportError:
            if args.compare_torch:
                print("--compare-torch: torch is not installed, comparison skipped")

    tn.manual_seed(args.seed)
    model = lenet(nn)
    init_state = {k: np.array(v, copy=True) for k, v in model.state_dict().items()}
    loss_fn = nn.CrossEntropyLoss()
    optimizer = tn.optim.Adam(model.parameters(), lr=args.lr)
    # The held-out images only draw the validation curves: nothing is selected on them.
    callbacks, data = [], train
    if args.shift > 0:
        shifted = train[0].copy()
        callbacks.append(ShiftEachEpoch(train[0], shifted, args.shift, args.seed))
        data = tn.data.DataLoader((shifted, train[1]), batch_size=args.batch_size, shuffle=True)
        assert np.shares_memory(data.dataset.arrays[0], shifted)
    # Cosine decay of the learning rate to 0 over the run: the last epochs settle in.
    scheduler = tn.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    history = tn.fit(model, loss_fn, optimizer, data, epochs=args.epochs,
                     validation_data=test, metrics=["accuracy"], callbacks=callbacks,
                     batch_size=args.batch_size, verbose=args.verbose, scheduler=scheduler)
    times = np.asarray(history.epoch_times)
    print(f"time per epoch: mean {1000 * times.mean():.1f} ms, median "
          f"{1000 * np.median(times):.1f} ms ({len(times)} epochs, "
          f"{len(train[0]) / np.median(times):,.0f} train samples/s incl. validation, "
          f"{tn.get_num_threads()} threads)")
    result = tn.evaluate(model, loss_fn, test, metrics=["accuracy"])
    print(f"test loss {result['loss']:.4f}  test accuracy {result['accuracy']:.4f}")

    if torch is not None:
        ttimes, tacc = train_torch(torch, init_state, train, test, args.epochs, args.batch_size,
                                   args.lr, args.shift, args.seed, tn.get_num_threads())
        print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), same network, "
              f"initial weights and epochs: time per epoch mean {1000 * ttimes.mean():.1f} ms, "
              f"median {1000 * np.median(ttimes):.1f} ms; test accuracy {tacc:.4f}")
        print(f"time per epoch (median): turbonn {1000 * np.median(times):.1f} ms, torch "
              f"{1000 * np.median(ttimes):.1f} ms (turbonn at "
              f"{np.median(ttimes) / np.median(times):.2f}x torch's speed)")

    os.makedirs(args.out_dir, exist_ok=True)
    try:
        print(f"plot: {tn.plot_history(history, os.path.join(args.out_dir, 'cnn_mnist.png'))}")
    except ImportError as e:
        print(f"no plot ({e})")
    return result["accuracy"]


if __name__ == "__main__":
    main()
