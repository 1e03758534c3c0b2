"""make_fixtures.py: runs every tests/reference/ref_*.py module's make(outdir) to write the PyTorch reference
fixtures for the C parity tests. Deterministic (each module seeds torch itself).

    /usr/bin/python3 tests/reference/make_fixtures.py --out build/fixtures [--only NAME]
"""
import argparse
import glob
import importlib.util
import os
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)

ap = argparse.ArgumentParser()
ap.add_argument("--out", required=True)
ap.add_argument("--only", default=None, help="run only ref_NAME.py")
args = ap.parse_args()
os.makedirs(args.out, exist_ok=True)

import torch  # noqa: E402

torch.set_num_threads(1)
for path in sorted(glob.glob(os.path.join(here, "ref_*.py"))):
    name = os.path.basename(path)[4:-3]
    if args.only and name != args.only:
        continue
    t0 = time.time()
    spec = importlib.util.spec_from_file_location("ref_" + name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.make(args.out)
    print("fixtures: %-20s %.1fs" % (name, time.time() - t0))
