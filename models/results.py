"""Test accuracy [%] of every model in this zoo, per seed, as measured at
the end of training (python examples/train_yin_yang.py --arch ARCH
--seed SEED --out models). models/test.py checks re-evaluation against it."""
RESULTS = {
    "yy_ff_30": {0: 95.60, 1: 86.10, 2: 91.70},
    "yy_ff_30_nodelay": {0: 92.20, 1: 79.20, 2: 89.60},
}
