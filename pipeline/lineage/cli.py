"""`python -m pipeline lineage model|span|runs`: the lineage questions on the command line.

Read-only: the store is opened without creating anything, so a wrong --workspace or an
unreachable server is a one-line error (exit 2), never a new, empty store.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline import config as config_lib
from pipeline.errors import EXIT_OK



def register(commands) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, default=config_lib.DEFAULT_CONFIG)
    common.add_argument("--workspace", type=Path,
                        help="the workspace whose metadata to read (default: the config's)")
    common.add_argument("--format", choices=("text", "json", "dot"), default="text",
                        help="a tree, stable JSON, or a Graphviz graph")

    lineage = commands.add_parser("lineage", help="what produced a pushed model, what a span "
                                  "touched, what each run did (from ML Metadata)")
    questions = lineage.add_subparsers(dest="question", required=True)

    model = questions.add_parser("model", parents=[common],
                                 help="upstream of a pushed model, back to the data")
    which = model.add_mutually_exclusive_group(required=True)
    which.add_argument("pushed_model", nargs="?", type=Path,
                       help="a pushed version folder, serving/<name>/<version>")
    which.add_argument("--latest", action="store_true", help="the latest pushed model")
    model.set_defaults(handler=lineage_command)

    span = questions.add_parser("span", parents=[common],
                                help="every model trained on span N, blessed, pushed, where")
    span.add_argument("span", type=int)
    span.set_defaults(handler=lineage_command)

    runs = questions.add_parser("runs", parents=[common],
                                help="every run and the state of each component")
    runs.set_defaults(handler=lineage_command)


def lineage_command(args: argparse.Namespace) -> int:
    config = config_lib.load(args.config).with_overrides(workspace=args.workspace)
    from pipeline.lineage import render as lineage_render
    from pipeline.lineage.downstream import run_history, span_lineage
    from pipeline.lineage.model import model_lineage
    from pipeline.metadata import store as metadata_store

    store = metadata_store.open_store(config, create=False)
    if args.question == "model":
        answer = model_lineage(store, config.name,
                               pushed_path=None if args.latest else str(args.pushed_model),
                               latest=args.latest)
    elif args.question == "span":
        answer = span_lineage(store, config.name, args.span)
    else:
        answer = run_history(store, config.name)
    print(lineage_render.render(answer, args.format))
    return EXIT_OK
