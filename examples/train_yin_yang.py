"""Train a Yin-Yang classifier with learnable delays on the CPU.

    python examples/train_yin_yang.py                 # yy_ff_30, ~7 min
    python examples/train_yin_yang.py --arch yy_ff_10_nodelay --seed 2
    python examples/train_yin_yang.py --published     # the paper's set-up
    python examples/train_yin_yang.py --out models    # models/<arch>/<seed>/
"""
from ml_genn_delays import cli


def main(argv=None):
    return cli.main("yin_yang", __doc__, "yy_ff_30", argv)


if __name__ == "__main__":
    main()
