"""``simssl pretrain`` and ``simssl finetune`` (``torchrun -m simssl.cli pretrain ...`` for data-parallel runs)."""

from __future__ import annotations

import json

from ..atomic import refuse_overwrite
from ..errors import SimsslError
from ..locking import OutputLock
from . import options

#: the trainer's presets, named here so building the parser does not import torch (a test keeps them equal)
PRESET_NAMES = ("small", "default", "continuous", "knn16", "large")


def add_pretrain_parser(subparsers) -> None:
    """The ``pretrain`` sub-command."""
    parser = subparsers.add_parser(
        "pretrain",
        help="pretrain an encoder with self-supervised tasks on crystals and/or your trajectories",
        description="Multi-task self-supervised pretraining (noisy bonds, shift, denoising, distance denoising, "
        "nearest bond, autoencoder, frame classification) on idealized crystals and optional trajectories. "
        "Runs on CPU or GPU (AMP on "
        "CUDA); launch with `torchrun --nproc_per_node N -m simssl.cli pretrain ...` for data-parallel training.",
    )
    parser.add_argument(
        "--preset",
        choices=PRESET_NAMES,
        default="default",
        help="small: seconds, for smoke tests; default: the shipped model (continuous, geometry only, with shell "
        "spectra; ~45 min on 2 CPU cores); continuous: the same without shell spectra (an ablation); knn16: the "
        "k=16-nearest typed model shipped before (~1 h); large: a GPU run",
    )
    parser.add_argument(
        "--data", nargs="+", default=[], metavar="FILE", help="also train on these trajectories (any simssl format)"
    )
    options.add_reader_options(parser)
    parser.add_argument("--no-library", action="store_true", help="train on --data only, without the crystal library")
    options.add_output(parser, "output model file (.pt), loadable with simssl.load_model", aliases=("--out",))
    parser.add_argument("--epochs", type=int, help="number of epochs (default: the preset's)")
    options.add_seed(parser, "data generation, split, initialization and corruption")
    options.add_device(parser)
    parser.add_argument(
        "--resume",
        metavar="CKPT",
        help="continue from a checkpoint written by an earlier run (its preset and seed are used)",
    )
    parser.add_argument(
        "--checkpoint-every",
        type=int,
        default=1,
        metavar="N",
        help="write OUT.checkpoints/epochNNNN.pt every N epochs (default: 1; 0: never)",
    )
    parser.add_argument("--log", help="append one JSON line of metrics per epoch to this file")
    options.add_force(parser)
    options.add_quiet(parser)
    parser.set_defaults(run=run_pretrain)


def run_pretrain(args) -> None:
    from ..training.trainer import Distributed, pretrain

    if args.no_library and not args.data:
        raise SimsslError("--no-library needs --data files to train on")
    card = pretrain(
        args.preset,
        args.output,
        data_files=args.data,
        read_options=options.reader_kwargs(args),
        seed=args.seed,
        device=args.device,
        resume=args.resume,
        checkpoint_every=args.checkpoint_every,
        log=args.log,
        epochs=args.epochs,
        library=not args.no_library,
        progress=not args.quiet,
        force=args.force or args.resume is not None,
    )
    if not args.quiet and Distributed().main:
        metrics = card["metrics"]
        print(
            f"{args.output}: {metrics['epochs_run']} epoch(s), best epoch {metrics['best_epoch']}, "
            f"{card['data']['environments']} environments of {len(card['data']['structures'])} structures, "
            f"{card['wall_seconds']:.1f} s"
        )
        for split in ("train", "val"):
            print(f"  {split}: " + ", ".join(f"{name} {value:.4f}" for name, value in metrics[split].items()))


def add_finetune_parser(subparsers) -> None:
    """The ``finetune`` sub-command."""
    parser = subparsers.add_parser(
        "finetune",
        help="train a small head on a pretrained encoder from a few labeled particles",
        description="Transfer learning: embed the frames with a (frozen, unless --unfreeze) encoder "
        "and train a linear or MLP "
        "head on a fraction of the labeled particles; reports held-out accuracy (or RMSE).",
    )
    options.add_model_options(parser)
    parser.add_argument(
        "--data",
        nargs="+",
        required=True,
        metavar="FILE",
        help="trajectories whose frames are labeled (all frames, in order)",
    )
    options.add_reader_options(parser)
    parser.add_argument(
        "--labels",
        required=True,
        help="labels: .npz with 'labels' (per particle, all frames concatenated) "
        "or 'frame_labels' (one per frame), or .npy",
    )
    options.add_output(parser, "output file of the fine-tuned model (.pt)", aliases=("--out",))
    parser.add_argument("--task", choices=["classification", "regression"], default="classification")
    parser.add_argument(
        "--fraction",
        type=float,
        default=0.01,
        help="fraction of particles whose labels are used for training (default: 0.01)",
    )
    parser.add_argument("--unfreeze", action="store_true", help="also train the encoder (default: frozen)")
    parser.add_argument("--head", choices=["linear", "mlp"], default="linear")
    parser.add_argument("--epochs", type=int, default=200)
    options.add_seed(parser, "the labeled subset and the head's initialization")
    options.add_force(parser)
    options.add_quiet(parser)
    parser.set_defaults(run=run_finetune)


def run_finetune(args) -> None:
    from ..checkpoints import load_model
    from ..io import read_frames
    from ..io.labels import read_labels
    from ..training.finetune import finetune

    with OutputLock(args.output):  # held from the start: a second run aimed at the same file is refused
        refuse_overwrite(args.output, args.force)
        model = load_model(args.model)
        frames = [frame for path in args.data for frame in read_frames(path, **options.reader_kwargs(args))]
        labels = read_labels(args.labels, len(frames))
        result = finetune(
            model,
            frames,
            labels,
            task=args.task,
            fraction=args.fraction,
            freeze=not args.unfreeze,
            epochs=args.epochs,
            seed=args.seed,
            head=args.head,
            device=args.device,
        )
        result.save(args.output)
    if not args.quiet:
        print(f"{args.output}: " + json.dumps(result.metrics))
