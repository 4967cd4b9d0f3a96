"""Command-line wiring of ``simssl pretrain`` and ``simssl finetune`` (argparse sub-parsers and their run functions).

``simssl.cli`` adds these sub-parsers; ``python -m simssl.ssl.commands pretrain ...`` runs them
standalone (also under ``torchrun -m simssl.ssl.commands`` for data-parallel pretraining).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import SimsslError


def _refuse_overwrite(path, force: bool) -> None:
    if Path(path).exists() and not force:
        raise SimsslError(f"{path} exists; pass --force to overwrite it")


#: the trainer's presets, named here so building the parser does not import torch (a test keeps them equal)
PRESET_NAMES = ("small", "default", "large")


def add_pretrain_parser(subparsers) -> argparse.ArgumentParser:
    """The ``pretrain`` sub-command."""
    parser = subparsers.add_parser(
        "pretrain", help="pretrain an encoder with self-supervised tasks on crystals and/or your trajectories",
        description="Multi-task self-supervised pretraining (noisy bonds, shift, denoising, distance denoising, nearest bond, "
        "autoencoder, frame classification) on idealized crystals and optional trajectories. Runs on CPU or GPU (AMP on "
        "CUDA); launch with `torchrun --nproc_per_node N -m simssl.cli pretrain ...` for data-parallel training.")
    parser.add_argument("--preset", choices=PRESET_NAMES, default="default",
                        help="small: seconds, for smoke tests; default: the shipped model (~1 h on 2 idle CPU cores); large: a GPU run")
    parser.add_argument("--data", nargs="+", default=[], metavar="FILE", help="also train on every frame of these trajectories (any simssl format)")
    parser.add_argument("--no-library", action="store_true", help="train on --data only, without the crystal library")
    parser.add_argument("--out", "-o", required=True, help="output model file (.pt), loadable with simssl.load_model")
    parser.add_argument("--epochs", type=int, help="number of epochs (default: the preset's)")
    parser.add_argument("--seed", type=int, default=0, help="seed of data generation, split, initialization and corruption (default: 0)")
    parser.add_argument("--device", help="torch device (default: CUDA when available)")
    parser.add_argument("--resume", metavar="CKPT", help="continue from a checkpoint written by an earlier run (its preset and seed are used)")
    parser.add_argument("--checkpoint-every", type=int, default=1, metavar="N",
                        help="write OUT.checkpoints/epochNNNN.pt every N epochs (default: 1; 0: never)")
    parser.add_argument("--log", help="append one JSON line of metrics per epoch to this file")
    parser.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    parser.add_argument("--quiet", action="store_true", help="no progress bars and no summary")
    parser.set_defaults(run=run_pretrain)
    return parser


def run_pretrain(args) -> None:
    from .trainer import Distributed, pretrain

    if args.no_library and not args.data:
        raise SimsslError("--no-library needs --data files to train on")
    _refuse_overwrite(args.out, args.force or args.resume is not None)
    card = pretrain(args.preset, args.out, data_files=args.data, seed=args.seed, device=args.device, resume=args.resume,
                    checkpoint_every=args.checkpoint_every, log=args.log, epochs=args.epochs, library=not args.no_library,
                    progress=not args.quiet)
    if not args.quiet and Distributed().main:
        metrics = card["metrics"]
        print(f"{args.out}: {metrics['epochs_run']} epoch(s), best epoch {metrics['best_epoch']}, "
              f"{card['data']['environments']} environments of {len(card['data']['structures'])} structures, {card['wall_seconds']:.1f} s")
        for split in ("train", "val"):
            print(f"  {split}: " + ", ".join(f"{name} {value:.4f}" for name, value in metrics[split].items()))


def add_finetune_parser(subparsers) -> argparse.ArgumentParser:
    """The ``finetune`` sub-command."""
    parser = subparsers.add_parser(
        "finetune", help="train a small head on a pretrained encoder from a few labeled particles",
        description="Transfer learning: embed the frames with a (frozen, unless --unfreeze) encoder and train a linear or MLP "
        "head on a fraction of the labeled particles; reports held-out accuracy (or RMSE).")
    parser.add_argument("--model", default="default", help="encoder checkpoint, or 'default' for the shipped model")
    parser.add_argument("--data", nargs="+", required=True, metavar="FILE", help="trajectories whose frames are labeled (all frames, in order)")
    parser.add_argument("--labels", required=True,
                        help="labels: .npz with 'labels' (per particle, all frames concatenated) or 'frame_labels' (one per frame), or .npy")
    parser.add_argument("--out", "-o", required=True, help="output file of the fine-tuned model (.pt)")
    parser.add_argument("--task", choices=["classification", "regression"], default="classification")
    parser.add_argument("--fraction", type=float, default=0.01, help="fraction of particles whose labels are used for training (default: 0.01)")
    parser.add_argument("--unfreeze", action="store_true", help="also train the encoder (default: frozen)")
    parser.add_argument("--head", choices=["linear", "mlp"], default="linear")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", help="torch device (default: CUDA when available)")
    parser.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    parser.set_defaults(run=run_finetune)
    return parser


def run_finetune(args) -> None:
    from ..io import read_frames
    from ..model import load_model
    from .finetune import finetune, read_labels

    _refuse_overwrite(args.out, args.force)
    model = load_model(None if args.model == "default" else args.model)
    frames = [frame for path in args.data for frame in read_frames(path)]
    labels = read_labels(args.labels, len(frames))
    result = finetune(model, frames, labels, task=args.task, fraction=args.fraction, freeze=not args.unfreeze, epochs=args.epochs,
                      seed=args.seed, head=args.head, device=args.device)
    result.save(args.out)
    print(f"{args.out}: " + json.dumps(result.metrics))


def main(argv=None) -> int:
    """Standalone entry point (``python -m simssl.ssl.commands``); exit code 2 for bad input."""
    parser = argparse.ArgumentParser(prog="simssl", description="Self-supervised pretraining and fine-tuning.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_pretrain_parser(commands)
    add_finetune_parser(commands)
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except SimsslError as error:
        print(f"simssl: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
