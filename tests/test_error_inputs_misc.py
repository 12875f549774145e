"""Error inputs of everything around the layers: the optimizers (SGD, Adam, AdamW, Adagrad,
RMSprop, Adadelta), the lr schedulers, ``tn.data``, the ``tn.train`` helpers, ``tn.save`` /
``tn.load``, the RNG and the runtime controls (threads, the private ``_set_isa`` behind
TURBONN_CPU): one table, each row a bad call, the exception it must raise and a regex naming
the argument. See error_inputs.py for the machinery."""
from __future__ import annotations

import io
import os
import subprocess
import sys

import numpy as np
import pytest

import turbonn as tn
from turbonn import _core, nn, optim
from turbonn.optim import lr_scheduler
from error_inputs import ErrorInput as E
from error_inputs import check, check_family_sizes, params


def p(*shape):
    return nn.Parameter(np.ones(shape, np.float32))


def opt(cls=optim.SGD, **kw):
    return cls([p(3)], **kw)


def _nonleaf():
    return p(3) * 2


def _state_dict_mismatch():
    o = opt(optim.Adam)
    sd = o.state_dict()
    sd["param_groups"] = sd["param_groups"] * 2
    o.load_state_dict(sd)


def _step_with_bad_grad():
    w = p(3)
    o = optim.SGD([w], lr=0.1)
    w.grad = tn.tensor([1.0, 2.0, 3.0])
    w.grad.data = np.ones(4, np.float32)  # bypasses the shape check of the grad setter
    o.step()


OPTIMIZER = [
    E("optim", "sgd-lr-negative", lambda: opt(lr=-0.1), ValueError,
      r"Invalid learning rate: -0\.1.*\blr\b"),
    E("optim", "sgd-lr-nan", lambda: opt(lr=float("nan")), ValueError,
      r"Invalid learning rate: nan.*\blr\b"),
    E("optim", "sgd-lr-string", lambda: opt(lr="0.1"), TypeError,
      r"^\blr\b must be a float, got str"),
    E("optim", "sgd-momentum-negative", lambda: opt(momentum=-0.5), ValueError,
      r"Invalid \bmomentum\b value: -0\.5"),
    E("optim", "sgd-weight-decay-negative", lambda: opt(weight_decay=-1e-4), ValueError,
      r"Invalid \bweight_decay\b value: -0\.0001"),
    E("optim", "sgd-nesterov-without-momentum", lambda: opt(nesterov=True), ValueError,
      r"Nesterov momentum requires a \bmomentum\b and zero \bdampening\b"),
    E("optim", "sgd-nesterov-with-dampening",
      lambda: opt(nesterov=True, momentum=0.9, dampening=0.1), ValueError,
      r"Nesterov momentum requires a \bmomentum\b and zero \bdampening\b"),
    E("optim", "empty-params", lambda: optim.SGD([], lr=0.1), ValueError,
      r"optimizer got an empty parameter list.*\bparams\b"),
    E("optim", "params-a-tensor", lambda: optim.SGD(p(3), lr=0.1), TypeError,
      r"\bparams\b argument given to the optimizer should be an iterable of Tensors or dicts, "
      r"but got a Tensor"),
    E("optim", "params-contain-float", lambda: optim.SGD([p(3), 1.0], lr=0.1), TypeError,
      r"optimizer can only optimize Tensors.*\bparams\b.*float"),
    E("optim", "params-int-tensor", lambda: optim.Adam([tn.tensor([1, 2])]), ValueError,
      r"optimizer \bparameters\b must be C-contiguous float32 tensors, got int64"),
    E("optim", "params-non-leaf", lambda: optim.SGD([_nonleaf()], lr=0.1), ValueError,
      r"can't optimize a non-leaf Tensor.*\bparams\b"),
    E("optim", "params-duplicated", lambda: optim.SGD([{"params": [w := p(2)]},
                                                       {"params": [w]}], lr=0.1), ValueError,
      r"some \bparameters\b appear in more than one parameter group"),
    E("optim", "param-group-without-params", lambda: optim.SGD([{"lr": 0.1}]), KeyError,
      r"^params$"),
    E("optim", "adam-beta1-one", lambda: opt(optim.Adam, betas=(1.0, 0.999)), ValueError,
      r"Invalid beta parameter at index 0: 1\.0.*\bbetas\b"),
    E("optim", "adam-beta2-negative", lambda: opt(optim.Adam, betas=(0.9, -0.1)), ValueError,
      r"Invalid beta parameter at index 1: -0\.1.*\bbetas\b"),
    E("optim", "adam-betas-scalar", lambda: opt(optim.Adam, betas=0.9), TypeError,
      r"\bbetas\b must be a pair of floats, got 0\.9"),
    E("optim", "adam-betas-triple", lambda: opt(optim.Adam, betas=(0.9, 0.99, 0.999)),
      TypeError, r"\bbetas\b must be a pair of floats"),
    E("optim", "adam-eps-negative", lambda: opt(optim.Adam, eps=-1e-8), ValueError,
      r"Invalid epsilon value: -1e-08.*\beps\b"),
    E("optim", "adamw-weight-decay-negative", lambda: opt(optim.AdamW, weight_decay=-0.01),
      ValueError, r"Invalid \bweight_decay\b value: -0\.01"),
    E("optim", "adamw-lr-negative", lambda: opt(optim.AdamW, lr=-1.0), ValueError,
      r"Invalid learning rate: -1\.0.*\blr\b"),
    E("optim", "adagrad-lr-decay-negative", lambda: opt(optim.Adagrad, lr_decay=-0.1),
      ValueError, r"Invalid \blr_decay\b value: -0\.1"),
    E("optim", "adagrad-initial-accumulator-negative",
      lambda: opt(optim.Adagrad, initial_accumulator_value=-1.0), ValueError,
      r"Invalid \binitial_accumulator_value\b value: -1\.0"),
    E("optim", "rmsprop-alpha-negative", lambda: opt(optim.RMSprop, alpha=-0.5), ValueError,
      r"Invalid \balpha\b value: -0\.5"),
    E("optim", "rmsprop-momentum-negative", lambda: opt(optim.RMSprop, momentum=-1.0),
      ValueError, r"Invalid \bmomentum\b value: -1\.0"),
    E("optim", "adadelta-rho-above-one", lambda: opt(optim.Adadelta, rho=1.5), ValueError,
      r"Invalid \brho\b value: 1\.5"),
    E("optim", "adadelta-eps-negative", lambda: opt(optim.Adadelta, eps=-1.0), ValueError,
      r"Invalid epsilon value: -1\.0.*\beps\b"),
    E("optim", "load-state-dict-group-count", _state_dict_mismatch, ValueError,
      r"loaded state dict has 2 parameter groups, the optimizer has 1"),
    E("optim", "load-state-dict-not-a-dict", lambda: opt().load_state_dict([1]), TypeError,
      r"optimizer \bstate_dict\b must be a dict, got list"),
    E("optim", "load-state-dict-state-a-list", lambda: opt().load_state_dict(
        {"state": [1], "param_groups": [{"lr": 0.1, "params": [0]}]}), ValueError,
      r"\bstate_dict\b needs '\bstate\b' \(a dict\) and 'param_groups' \(a list\)"),
    E("optim", "load-state-dict-group-without-params", lambda: opt().load_state_dict(
        {"state": {}, "param_groups": [{"lr": 0.1}]}), ValueError,
      r"param_groups\[0\] of the \bstate_dict\b must be a dict with a '\bparams\b' list"),
    E("optim", "load-state-dict-lr-string", lambda: opt().load_state_dict(
        {"state": {}, "param_groups": [{"lr": "x", "params": [0]}]}), ValueError,
      r"\bstate_dict\b param_groups\[0\]\['\blr\b'\] is 'x'; the optimizer's value is 0\.001"),
    E("optim", "load-state-dict-unknown-index", lambda: opt().load_state_dict(
        {"state": {5: {}}, "param_groups": [{"lr": 0.1, "params": [0]}]}), ValueError,
      r"\bstate_dict\b 'state' has an entry for parameter index 5"),
    E("optim", "load-state-dict-state-shape", lambda: opt().load_state_dict(
        {"state": {0: {"momentum_buffer": np.ones(4)}},
         "param_groups": [{"lr": 0.1, "params": [0]}]}), ValueError,
      r"state '\bmomentum_buffer\b' of parameter 0 has shape \(4,\), the parameter has \(3,\)"),
    E("optim", "step-grad-shape", _step_with_bad_grad, ValueError,
      r"\bgrad\b must have the shape of param \(3,\), got \(4,\)"),
]


SCHEDULER = [
    E("lr_scheduler", "steplr-step-size-zero", lambda: lr_scheduler.StepLR(opt(), 0), ValueError,
      r"\bstep_size\b must be positive, got 0"),
    E("lr_scheduler", "steplr-gamma-negative", lambda: lr_scheduler.StepLR(opt(), 2, -0.1),
      ValueError, r"\bgamma\b must be >= 0, got -0\.1"),
    E("lr_scheduler", "steplr-not-optimizer", lambda: lr_scheduler.StepLR([p(2)], 2), TypeError,
      r"list is not an Optimizer"),
    E("lr_scheduler", "cosine-t-max-zero", lambda: lr_scheduler.CosineAnnealingLR(opt(), 0),
      ValueError, r"\bT_max\b must be positive, got 0"),
    E("lr_scheduler", "exponential-gamma-negative",
      lambda: lr_scheduler.ExponentialLR(opt(), -0.5), ValueError,
      r"\bgamma\b must be >= 0, got -0\.5"),
    E("lr_scheduler", "plateau-factor-one",
      lambda: lr_scheduler.ReduceLROnPlateau(opt(), factor=1.0), ValueError,
      r"(?i)\bfactor\b should be < 1\.0"),
    E("lr_scheduler", "plateau-mode", lambda: lr_scheduler.ReduceLROnPlateau(opt(), mode="up"),
      ValueError, r"\bmode\b must be 'min'/'max'.*'up'"),
    E("lr_scheduler", "plateau-threshold-mode",
      lambda: lr_scheduler.ReduceLROnPlateau(opt(), threshold_mode="pct"), ValueError,
      r"\bthreshold_mode\b 'rel'/'abs'.*'pct'"),
    E("lr_scheduler", "plateau-not-optimizer",
      lambda: lr_scheduler.ReduceLROnPlateau("sgd"), TypeError, r"str is not an Optimizer"),
    E("lr_scheduler", "plateau-min-lr-length",
      lambda: lr_scheduler.ReduceLROnPlateau(opt(), min_lr=[0.1, 0.2]), ValueError,
      r"expected 1 \bmin_lrs\b \(one per parameter group\), got 2"),
    E("lr_scheduler", "plateau-step-string",
      lambda: lr_scheduler.ReduceLROnPlateau(opt()).step("low"), TypeError,
      r"\bmetrics\b must be a number \(the monitored value\), got 'low'"),
    E("lr_scheduler", "load-state-dict-list",
      lambda: lr_scheduler.StepLR(opt(), 2).load_state_dict([("last_epoch", 3)]), TypeError,
      r"\bstate_dict\b must be a dict from state_dict\(\), got list"),
    E("lr_scheduler", "plateau-patience-negative",
      lambda: lr_scheduler.ReduceLROnPlateau(opt(), patience=-1), ValueError,
      r"\bpatience\b must be an int >= 0, got -1"),
]


class _Items(tn.data.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return np.ones(i + 1, np.float32), 0


DATA = [
    E("data", "batch-size-zero", lambda: tn.data.DataLoader((np.ones((4, 2)),), batch_size=0),
      ValueError, r"\bbatch_size\b should be a positive integer, got 0"),
    E("data", "batch-size-float", lambda: tn.data.DataLoader((np.ones((4, 2)),), batch_size=2.0),
      TypeError, r"\bbatch_size\b should be a positive integer, got float 2\.0"),
    E("data", "batch-size-negative", lambda: tn.data.DataLoader((np.ones((4, 2)),),
                                                                batch_size=-3), ValueError,
      r"\bbatch_size\b should be a positive integer, got -3"),
    E("data", "num-workers", lambda: tn.data.DataLoader((np.ones((4, 2)),), num_workers=2),
      ValueError, r"\bnum_workers\b=2 is not supported"),
    E("data", "dataset-int", lambda: tn.data.DataLoader(5), TypeError,
      r"\bdataset\b must be a Dataset or a tuple of arrays, got int"),
    E("data", "generator-legacy", lambda: tn.data.DataLoader(
        (np.ones((4, 2)),), generator=np.random.RandomState(0)), TypeError,
      r"\bgenerator\b must be a numpy\.random\.Generator or None, got RandomState"),
    E("data", "collate-fn-not-callable", lambda: tn.data.DataLoader((np.ones((4, 2)),),
                                                                    collate_fn=3), TypeError,
      r"\bcollate_fn\b must be callable"),
    E("data", "tensor-dataset-size-mismatch", lambda: tn.data.TensorDataset(
        np.ones((4, 2)), np.ones(3)), ValueError,
      r"size mismatch between \btensors\b: first dimensions are \[4, 3\]"),
    E("data", "tensor-dataset-empty", lambda: tn.data.TensorDataset(), ValueError,
      r"TensorDataset needs at least one array or Tensor"),
    E("data", "tensor-dataset-0d", lambda: tn.data.TensorDataset(np.float32(1.0)), ValueError,
      r"\btensors\[0\]: a 0-d array has no samples"),
    E("data", "tensor-dataset-strings", lambda: tn.data.TensorDataset(np.array(["a", "b"])),
      TypeError, r"\btensors\[0\]: unsupported dtype <U1"),
    E("data", "collate-ragged", lambda: list(tn.data.DataLoader(_Items(), batch_size=2)),
      ValueError, r"default_collate: samples have different shapes"),
    E("data", "dataset-abstract", lambda: len(tn.data.Dataset()), NotImplementedError,
      r"Dataset must define __len__"),
]


class _Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 1)

    def forward(self, x):
        return self.lin(x)


def _fit(**kw):
    m = _Model()
    args = dict(model=m, loss_fn=nn.MSELoss(), optimizer=optim.SGD(m.parameters(), lr=0.1),
                train_data=(np.ones((4, 2), np.float32), np.ones((4, 1), np.float32)), verbose=0)
    args.update(kw)
    return tn.fit(**args)


TRAIN = [
    E("train", "early-stopping-patience-negative", lambda: tn.EarlyStopping(patience=-1),
      ValueError, r"\bpatience\b must be an int >= 0, got -1"),
    E("train", "early-stopping-patience-float", lambda: tn.EarlyStopping(patience=1.5),
      ValueError, r"\bpatience\b must be an int >= 0, got 1\.5"),
    E("train", "early-stopping-min-delta-negative", lambda: tn.EarlyStopping(min_delta=-0.1),
      ValueError, r"\bmin_delta\b must be >= 0, got -0\.1"),
    E("train", "early-stopping-mode", lambda: tn.EarlyStopping(mode="best"), ValueError,
      r"\bmode\b must be 'auto', 'min' or 'max', got 'best'"),
    E("train", "early-stopping-monitor-int", lambda: tn.EarlyStopping(monitor=3), TypeError,
      r"\bmonitor\b must be the name of a logged value, got 3"),
    E("train", "fit-loss-not-tensor", lambda: _fit(loss_fn=lambda out, target: 1.0), TypeError,
      r"\bloss_fn\b must return a Tensor, got float"),
    E("train", "early-stopping-unknown-monitor",
      lambda: _fit(callbacks=[tn.EarlyStopping(monitor="val_acc")]), ValueError,
      r"EarlyStopping monitors 'val_acc', which is not among the logged values"),
    E("train", "fit-epochs-negative", lambda: _fit(epochs=-1), ValueError,
      r"\bepochs\b must be an int >= 0, got -1"),
    E("train", "fit-verbose", lambda: _fit(verbose=3), ValueError,
      r"\bverbose\b must be 0, 1 or 2, got 3"),
    E("train", "fit-train-data-single", lambda: _fit(train_data=(np.ones((4, 2)),)), ValueError,
      r"\btrain_data\b must be \(inputs, target\) arrays or a DataLoader"),
    E("train", "fit-train-data-int", lambda: _fit(train_data=3), TypeError,
      r"\btrain_data\b must be a DataLoader, a Dataset or an \(x, y\) tuple"),
    E("train", "fit-batch-size-zero", lambda: _fit(batch_size=0), ValueError,
      r"\btrain_data\b: \bbatch_size\b should be a positive integer, got 0"),
    E("train", "fit-metric-unknown", lambda: _fit(metrics=["f1"]), ValueError,
      r"unknown \bmetric\b 'f1'"),
    E("train", "fit-callback-type", lambda: _fit(callbacks=[print]), TypeError,
      r"\bcallbacks\b must be turbonn Callback instances"),
    E("train", "fit-validation-data-size-mismatch", lambda: _fit(
        validation_data=(np.ones((4, 2)), np.ones((3, 1)))), ValueError,
      r"\bvalidation_data\b: TensorDataset: size mismatch"),
    E("train", "accuracy-shape", lambda: tn.train.accuracy(np.ones((4, 3)), np.ones(5)),
      ValueError, r"predictions of shape \(4,\).*\btarget\b of shape \(5,\)"),
]


def _load_bytes(data: bytes):
    return tn.load(io.BytesIO(data))


IO = [
    E("io", "save-unsupported-object", lambda: tn.save({"f": print}, io.BytesIO()), TypeError,
      r"save: cannot store a value of type builtin_function_or_method at 'f'"),
    E("io", "save-complex-array", lambda: tn.save({"w": np.ones(2, np.complex64)}, io.BytesIO()),
      TypeError, r"save: cannot store an array of dtype complex64 at 'w'"),
    E("io", "save-bytes-key", lambda: tn.save({b"k": np.ones(2)}, io.BytesIO()), TypeError,
      r"save: dict \bkey\b b'k' at 'top level' has type bytes"),
    E("io", "save-metadata-not-strings", lambda: tn.save({}, io.BytesIO(), metadata={"a": 1}),
      TypeError, r"save: \bmetadata\b must be a dict of str -> str"),
    E("io", "save-missing-directory", lambda: tn.save({}, "/nonexistent-dir/x.safetensors"),
      FileNotFoundError, r"directory of '/nonexistent-dir/x\.safetensors' does not exist"),
    E("io", "load-missing-file", lambda: tn.load("/nonexistent-dir/x.safetensors"),
      FileNotFoundError, r"nonexistent-dir/x\.safetensors"),
    E("io", "load-too-short", lambda: _load_bytes(b"abc"), ValueError,
      r"load: not a safetensors file \(3 bytes"),
    E("io", "load-bad-header-length", lambda: _load_bytes(b"\xff" * 8 + b"{}"), ValueError,
      r"load: not a safetensors file, or corrupt: header length"),
    E("io", "load-header-not-json", lambda: _load_bytes(b"\x04" + b"\0" * 7 + b"{{{{"),
      ValueError, r"load: not a safetensors file, or corrupt: \bheader\b is not valid JSON"),
    E("io", "save-path-int", lambda: tn.save({}, 123), TypeError, r"\bf\b.*int"),
    E("io", "load-path-int", lambda: tn.load(123), TypeError, r"\bf\b.*int"),
    E("io", "load-directory", lambda: tn.load("/"), IsADirectoryError, r"Is a directory: '/'"),
    E("io", "save-self-containing", lambda: tn.save((d := {}, d.setdefault("d", d))[0],
                                                    io.BytesIO()), ValueError,
      r"save: 'd' contains itself"),
]

def _import_with_cpu(value: str):
    """Import turbonn in a fresh interpreter with TURBONN_CPU=value; re-raise the child's last
    line as an ImportError (a crash would show up as a missing traceback instead)."""
    env = dict(os.environ, TURBONN_CPU=value)
    proc = subprocess.run([sys.executable, "-c", "import turbonn"], env=env, capture_output=True,
                          text=True, timeout=120)
    if proc.returncode:
        last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
        assert last.startswith("ImportError: "), proc.stderr[-2000:]
        raise ImportError(last[len("ImportError: "):])


RUNTIME = [
    E("runtime", "threads-zero", lambda: tn.set_num_threads(0), ValueError,
      r"set_num_threads: \bn\b must be a positive integer, got 0"),
    E("runtime", "threads-negative", lambda: tn.set_num_threads(-1), ValueError,
      r"set_num_threads: \bn\b must be a positive integer, got -1"),
    E("runtime", "threads-float", lambda: tn.set_num_threads(2.0), TypeError,
      r"set_num_threads: \bn\b must be an int, got float"),
    E("runtime", "threads-bool", lambda: tn.set_num_threads(True), TypeError,
      r"set_num_threads: \bn\b must be an int, got bool"),
    E("runtime", "threads-overflow", lambda: tn.set_num_threads(2 ** 63), TypeError,
      r"set_num_threads\(\).*\(\bn\b: "),
    E("runtime", "set-isa-unknown", lambda: _core._set_isa("sse2"), ValueError,
      r"^\bisa\b=sse2: expected one of generic, avx2, avx512"),
    E("runtime", "set-isa-upper-case", lambda: _core._set_isa("AVX2"), ValueError,
      r"^\bisa\b=AVX2: expected one of generic, avx2, avx512"),
    E("runtime", "set-isa-empty", lambda: _core._set_isa(""), ValueError,
      r"^\bisa\b=: expected one of generic, avx2, avx512"),
    E("runtime", "env-cpu-unknown", lambda: _import_with_cpu("sse2"), ImportError,
      r"^\bTURBONN_CPU\b=sse2: expected one of generic, avx2, avx512"),
    E("runtime", "set-isa-int", lambda: _core._set_isa(2), TypeError,
      r"_set_isa\(\): incompatible function arguments.*\(\bname\b: str\)"),
    E("runtime", "manual-seed-negative", lambda: tn.manual_seed(-1), ValueError,
      r"manual_seed expected a non-negative seed, got -1"),
    E("runtime", "manual-seed-float", lambda: tn.manual_seed(1.5), TypeError,
      r"manual_seed expected an int, got float"),
    E("runtime", "set-rng-state-list", lambda: tn.set_rng_state([1, 2]), TypeError,
      r"set_rng_state expected the dict from get_rng_state, got list"),
    E("runtime", "set-rng-state-wrong-generator",
      lambda: tn.set_rng_state({"bit_generator": "MT19937"}), ValueError,
      r"set_rng_state: \bstate\b is for bit generator 'MT19937'"),
]

CASES = OPTIMIZER + SCHEDULER + DATA + TRAIN + IO + RUNTIME


@pytest.mark.parametrize("case", params(CASES))
def test_error_input(case):
    check(case)


def test_every_family_has_enough_error_inputs():
    check_family_sizes(CASES)
