"""Train on the Braille letters (12 taxels x ON/OFF = 24 inputs, 27
letters) with learnable delays (delay learning rate 0.025).

Needs data_braille_letters_th_<threshold>.pkl in --data-dir (or
DIR/reading_braille_data/); nothing is downloaded.

    python examples/train_braille.py --data-dir data            # braille_rec_1024
    python examples/train_braille.py --data-dir data --arch braille_ff_256
"""
from ml_genn_delays import cli


def main(argv=None):
    return cli.main("braille", __doc__, "braille_rec_1024", argv)


if __name__ == "__main__":
    main()
