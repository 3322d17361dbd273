"""``fastmlp download``: put a built-in data set's files into the cache, or import them."""

import argparse

from fastmlp.cli import common


def add_parser(commands) -> None:
    """The ``download`` subcommand's options."""
    download = commands.add_parser(
        "download", help="fetch a data set into the cache, or import it from a folder",
        description="Put a built-in data set's four files into the cache and print their "
        "paths.",
    )
    download.add_argument("dataset", choices=common.dataset_names(), help="the data set")
    download.add_argument("--from", dest="source", metavar="DIR",
                          help="import the original .gz files from DIR instead of downloading")
    common.add_data_options(download)


def run(args: argparse.Namespace) -> int:
    from fastmlp.datasets import download

    paths = download(args.dataset, source=args.source, data_home=args.data_home,
                     mirror=args.mirror)
    for path in paths:
        print(path)
    return 0
