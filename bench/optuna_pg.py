"""Optuna's figure for the PostgreSQL throughput comparison (issue 17): trials/s of N worker
processes sharing one study in Optuna's RDB storage on PostgreSQL, with an instant objective.

    python bench/optuna_pg.py URL [TRIALS_PER_PROCESS] [PROCESSES] [random|tpe]

URL: `postgresql://USER@HOST:PORT/DB` (psycopg2 is used: `postgresql+psycopg2://` is built from
it). Needs `pip install optuna psycopg2-binary`. The objective picks 6 categorical values of 5
options (NB201's cell) and returns a number at once, so the figure is Optuna's overhead.
"""
import multiprocessing
import sys
import time

import optuna

OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]


def objective(trial):
    return sum(OPS.index(trial.suggest_categorical(f"e{i}", OPS)) for i in range(6))


def sampler(kind):
    return optuna.samplers.TPESampler(seed=None) if kind == "tpe" else optuna.samplers.RandomSampler()


def work(url, name, n, kind):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=name, storage=url, sampler=sampler(kind))
    study.optimize(objective, n_trials=n)


def main():
    url = sys.argv[1].replace("postgresql://", "postgresql+psycopg2://", 1)
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    procs = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    kind = sys.argv[4] if len(sys.argv) > 4 else "random"
    name = f"nasc-bench-{kind}-{time.time_ns()}"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optuna.create_study(study_name=name, storage=url, direction="maximize")
    start = time.perf_counter()
    ps = [multiprocessing.Process(target=work, args=(url, name, n, kind)) for _ in range(procs)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    wall = time.perf_counter() - start
    total = n * procs
    print(f"optuna {optuna.__version__}, {kind} sampler, {procs} processes: {total} trials in {wall:.2f} s = {total / wall:.1f} trials/s")


if __name__ == "__main__":
    main()
