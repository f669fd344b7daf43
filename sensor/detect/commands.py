"""``otsensor learn`` and ``otsensor evaluate``: the command line of the learned baseline.

    otsensor learn FILES --baseline baseline.json [--frames N[,N...]] [--until TIME]
    otsensor evaluate CAPTURE --labels LABELS [--baseline B | --train FILES] [--frames ...] [--until TIME]

``--frames`` learns each file up to that frame (one number for all files, or one per file, in order):
the pre-attack part of a capture. ``evaluate`` without ``--baseline`` learns from ``--train`` (default:
the capture itself, up to the frame before its first labelled attack frame unless told otherwise).
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from sensor.detect.baseline import Baseline, BaselineError
from sensor.detect.evaluate import LabelError, evaluate, format_report, frame_times, load_labels, parse_time
from sensor.detect.learn import Cutoff, Learner
from sensor.detect.offline import run

EXIT_OK, EXIT_FAULT = 0, 2  # as otsensor analyze: a bad input is one line and status 2


def add_parsers(commands: argparse._SubParsersAction) -> None:
    learn = commands.add_parser("learn", help="learn a baseline of normal traffic (a reviewable JSON file)")
    learn.add_argument("inputs", nargs="+", metavar="FILE")
    learn.add_argument("--baseline", required=True, metavar="PATH", help="where to write the baseline")
    _cutoff_arguments(learn)
    evaluate_ = commands.add_parser("evaluate", help="score detection on a labelled capture against an allowlist")
    evaluate_.add_argument("capture", metavar="CAPTURE")
    evaluate_.add_argument("--labels", required=True, metavar="PATH",
                           help="per-frame labels (frame;label lines) or attack time ranges (start,end[,name])")
    source = evaluate_.add_mutually_exclusive_group()
    source.add_argument("--baseline", metavar="PATH", help="a learned baseline (default: none, the "
                                                                     "reference learns from the --train files)")
    source.add_argument("--train", nargs="+", metavar="FILE", help="learn from these (default: the capture itself)")
    _cutoff_arguments(evaluate_)


def _cutoff_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--frames", metavar="N[,N...]", help="learn each file up to this frame, one per "
                                                                       "file or one for all (default: every frame)")
    parser.add_argument("--until", type=parse_time, metavar="TIME", help="learn up to this time, epoch or ISO 8601 "
                                                                       "(default: to the end)")


def _cutoff(files: list[str], frames: str | None, until: float | None) -> Cutoff:
    if not frames:
        return Cutoff(until=until)
    numbers = [int(n) for n in frames.split(",")]
    if len(numbers) == 1:
        return Cutoff(default_frames=numbers[0], until=until)
    if len(numbers) != len(files):
        raise ValueError(f"--frames has {len(numbers)} numbers for {len(files)} files")
    return Cutoff(dict(zip(files, numbers)), until=until)


def cmd_learn(args: argparse.Namespace) -> int:
    learner = Learner(_cutoff(args.inputs, args.frames, args.until))
    _, summary = run(args.inputs, [learner])
    for error in summary.errors:
        print(f"error: {error}", file=sys.stderr)
    baseline = learner.baseline()
    baseline.save(args.baseline)
    print(f"learned from {baseline.learned['packets']} packets and {baseline.learned['messages']} messages: "
          f"{len(baseline.communications.items)} communications, {len(baseline.functions.items)} functions, "
          f"{len(baseline.points.ranges)} point sets, {len(baseline.values.ranges)} value ranges, "
          f"{len(baseline.schedules)} schedules, {len(baseline.sequences)} sequences, "
          f"forest: {'yes' if baseline.forest else 'not enough windows'} -> {args.baseline}")
    return EXIT_FAULT if summary.errors else EXIT_OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    baseline = Baseline.load(args.baseline) if args.baseline else None
    if baseline is not None:
        train = list(baseline.learned.get("files", []))
        frames = baseline.learned.get("frames", {})
        cutoff = Cutoff({f: n for f, n in frames.items() if n is not None}, until=baseline.learned.get("until"))
    else:
        train = args.train or [args.capture]
        cutoff = _cutoff(train, args.frames, args.until)
        if train == [args.capture] and not args.frames and args.until is None:
            attack = load_labels(args.labels, frame_times(args.capture)).attack
            first = int(attack.argmax()) + 1 if attack.any() else len(attack) + 1
            cutoff = Cutoff(default_frames=first - 1)
            print(f"learning from frames 1-{first - 1} of {args.capture} (before the first labelled attack frame)")
    report = evaluate(args.capture, args.labels, train, cutoff, baseline)
    print(format_report(report))
    return EXIT_OK


def _reported(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A bad baseline, label file or argument is one line on standard error and exit status 2."""
    def wrapped(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (BaselineError, LabelError, ValueError) as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_FAULT
    return wrapped


HANDLERS = {"learn": _reported(cmd_learn), "evaluate": _reported(cmd_evaluate)}


def main(argv: list[str] | None = None) -> int:
    """These two commands alone (``python -m sensor.detect.commands``), as ``otsensor`` runs them."""
    parser = argparse.ArgumentParser(prog="otsensor")
    add_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return HANDLERS[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
