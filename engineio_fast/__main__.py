"""Command line: ``python -m engineio_fast demo [--host HOST] [--port PORT]``."""

from __future__ import annotations

import argparse
import logging
import sys

from .demo import serve


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m engineio_fast`` argument parser."""
    parser = argparse.ArgumentParser(prog='python -m engineio_fast')
    commands = parser.add_subparsers(dest='command', required=True, metavar='COMMAND')
    demo = commands.add_parser(
        'demo',
        help='run the chat demo (a web page) on the embedded threading server',
        description='Serve a small Engine.IO chat with a web page; open it in two tabs.',
    )
    demo.add_argument('--host', default='127.0.0.1', help='interface (default: %(default)s)')
    demo.add_argument(
        '--port', type=int, default=5000, help='TCP port, 0 for any free one (default: %(default)s)'
    )
    demo.add_argument(
        '--ping-interval',
        type=float,
        default=25.0,
        help='seconds between server pings (default: %(default)s)',
    )
    demo.add_argument(
        '--ping-timeout',
        type=float,
        default=20.0,
        help='seconds a client has to answer a ping (default: %(default)s)',
    )
    demo.add_argument('--verbose', action='store_true', help='log every HTTP request')
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format='%(message)s'
    )
    if args.command == 'demo':
        try:
            serve(
                args.host,
                args.port,
                access_log=args.verbose,
                ping_interval=args.ping_interval,
                ping_timeout=args.ping_timeout,
            )
        except OSError as exc:
            print(f'cannot listen on {args.host}:{args.port}: {exc}', file=sys.stderr)
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
