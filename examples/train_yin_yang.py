"""Train a Yin-Yang classifier with learnable delays on the CPU.

    python examples/train_yin_yang.py                 # yy_ff_30, ~3 min
    python examples/train_yin_yang.py --arch yy_ff_10_nodelay --seed 2
    python examples/train_yin_yang.py --out models    # models/<arch>/<seed>/
"""
import argparse
import os

from ml_genn_delays import save_model
from ml_genn_delays.configs import get_config
from ml_genn_delays.datasets import yin_yang, yin_yang_spikes
from ml_genn_delays.experiment import build_model, compile_model, train


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--arch", default="yy_ff_30")
    parser.add_argument("--hidden", type=int)
    parser.add_argument("--no-delays", action="store_true")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-examples", type=int,
                        help="use only this many training examples")
    parser.add_argument("--backend", choices=["cpu", "cuda"])
    parser.add_argument("--out", help="save the final model in the release "
                        "layout OUT/<arch>/<seed>/")
    args = parser.parse_args(argv)

    overrides = {k: v for k, v in (("num_hidden", args.hidden),
                                   ("epochs", args.epochs),
                                   ("batch_size", args.batch_size))
                 if v is not None}
    if args.no_delays:
        overrides["delays"] = False
    config = get_config(args.arch, **overrides)

    x_train, y_train = yin_yang("train", size=args.max_examples)
    x_test, y_test = yin_yang("test")
    model = build_model(config, seed=args.seed)
    backend = {"cpu": {"backend": "single_threaded_cpu"}, "cuda":
               {"backend": "cuda"}, None: {}}[args.backend]
    compiled = compile_model(model, name="train_yin_yang", **backend)
    with compiled:
        history = train(model, compiled,
                        yin_yang_spikes(x_train, config.dt,
                                        config.example_time), y_train,
                        yin_yang_spikes(x_test, config.dt,
                                        config.example_time), y_test,
                        seed=args.seed)
        if args.out:
            save_model(compiled, os.path.join(args.out, config.arch,
                                              str(args.seed)),
                       checkpoint=len(history) - 1)
    print(f"test accuracy: {100 * history[-1]:.2f}%")


if __name__ == "__main__":
    main()
