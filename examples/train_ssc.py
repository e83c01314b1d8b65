"""Train on the Spiking Speech Commands (SSC) with learnable delays.

Needs ssc_train.h5, ssc_valid.h5 and ssc_test.h5 in --data-dir (or
DIR/SSC/); nothing is downloaded. The published set-up is feedforward,
2 x 1024 hidden (ssc_ff_1024).

    python examples/train_ssc.py --data-dir data --backend cuda
    python examples/train_ssc.py --data-dir data --arch ssc_rec_512
"""
from ml_genn_delays import cli


def main(argv=None):
    return cli.main("ssc", __doc__, "ssc_ff_1024", argv)


if __name__ == "__main__":
    main()
