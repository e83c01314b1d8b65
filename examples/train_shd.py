"""Train on the Spiking Heidelberg Digits (SHD) with learnable delays.

Needs shd_train.h5 and shd_test.h5 in --data-dir (or DIR/SHD/, tonic's
layout); nothing is downloaded.

    python examples/train_shd.py --data-dir data                # shd_rec_512
    python examples/train_shd.py --data-dir data --published    # as the paper
    python examples/train_shd.py --data-dir data --arch shd_ff_256_nodelay
    python examples/train_shd.py --data-dir data --backend cuda --resume
"""
from ml_genn_delays import cli


def main(argv=None):
    return cli.main("shd", __doc__, "shd_rec_512", argv)


if __name__ == "__main__":
    main()
