"""Test accuracy [%] of every model in this zoo, per seed: the epoch with
the best validation accuracy, as printed at the end of training
(python examples/train_yin_yang.py --arch ARCH --seed SEED --out models).
models/test.py checks re-evaluation against it."""
RESULTS = {
    'yy_ff_5': {0: 82.60, 1: 83.60, 2: 75.60},
    'yy_ff_5_nodelay': {0: 81.10, 1: 75.50, 2: 76.00},
    'yy_ff_10': {0: 94.50, 1: 92.80, 2: 88.70},
    'yy_ff_10_nodelay': {0: 90.90, 1: 77.30, 2: 91.50},
    'yy_ff_15': {0: 95.00, 1: 90.20, 2: 91.70},
    'yy_ff_15_nodelay': {0: 90.10, 1: 89.60, 2: 89.60},
    'yy_ff_20': {0: 96.20, 1: 93.00, 2: 96.30, 3: 95.30, 4: 96.00,
                 5: 90.90, 6: 95.20, 7: 90.40},
    'yy_ff_20_nodelay': {0: 90.00, 1: 90.40, 2: 92.60, 3: 93.60,
                         4: 88.30, 5: 90.40, 6: 91.00, 7: 86.30},
    'yy_ff_25': {0: 94.00, 1: 96.50, 2: 96.40, 3: 92.20, 4: 95.80,
                 5: 90.80, 6: 93.00, 7: 91.50},
    'yy_ff_25_nodelay': {0: 94.50, 1: 93.70, 2: 90.30, 3: 91.70,
                         4: 91.70, 5: 89.70, 6: 93.80, 7: 89.80},
    'yy_ff_30': {0: 95.90, 1: 98.10, 2: 96.80, 3: 95.50, 4: 92.20,
                 5: 92.10, 6: 91.80, 7: 93.20},
    'yy_ff_30_nodelay': {0: 91.70, 1: 91.30, 2: 93.00, 3: 93.30,
                         4: 92.40, 5: 94.20, 6: 88.00, 7: 89.80},
}
