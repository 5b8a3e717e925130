"""Command line: ``python -m engineio_fast demo|serve|info ...`` and ``--version``.

``demo`` runs the chat demo; ``serve MODULE:APP`` serves an ASGI app with
the native transport, with uvicorn's spelling of the options; ``info``
reports the version, the codec backend and the optional packages found.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from . import __version__
from ._info import report
from .demo import serve


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m engineio_fast`` argument parser."""
    parser = argparse.ArgumentParser(prog='python -m engineio_fast')
    parser.add_argument('--version', action='version', version='engineio_fast ' + __version__)
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
    add_serve_command(commands)
    commands.add_parser(
        'info',
        help='show the version, the codec backend and the optional packages found',
        description='Show what this installation runs: the engineio_fast version, the codec '
        'backend (compiled or pure Python), Python, python-engineio and the optional packages.',
    )
    return parser


def add_serve_command(commands: Any) -> None:
    """The ``serve`` subcommand: uvicorn's options, where they apply."""
    serve = commands.add_parser(
        'serve',
        help="serve an ASGI app with engineio_fast's own HTTP/WebSocket transport",
        description='Serve MODULE:APP (an engineio_fast or python-socketio ASGIApp) natively: '
        'Engine.IO requests reach its AsyncServer directly, everything else the app as ASGI.',
    )
    serve.add_argument('app', metavar='MODULE:APP', help='the application, as for uvicorn')
    serve.add_argument('--host', default='127.0.0.1', help='interface (default: %(default)s)')
    serve.add_argument('--port', type=int, default=8000, help='TCP port (default: %(default)s)')
    serve.add_argument('--uds', help='listen on this unix domain socket instead')
    serve.add_argument('--fd', type=int, help='listen on this already open socket')
    serve.add_argument('--ssl-certfile', help='TLS certificate (chain) file')
    serve.add_argument('--ssl-keyfile', help='TLS private key file')
    serve.add_argument('--ssl-keyfile-password', help='password of the key file')
    serve.add_argument(
        '--log-level',
        default='info',
        choices=['critical', 'error', 'warning', 'info', 'debug', 'trace'],
        help='log level (default: %(default)s)',
    )
    serve.add_argument('--root-path', default='', help='the ASGI root_path behind a proxy')
    serve.add_argument(
        '--proxy-headers',
        action=argparse.BooleanOptionalAction,
        default=True,
        help='take client address and scheme from X-Forwarded-For/-Proto of trusted proxies',
    )
    serve.add_argument(
        '--forwarded-allow-ips',
        help='comma-separated proxy addresses or networks to trust, * for all '
        '(default: $FORWARDED_ALLOW_IPS or 127.0.0.1)',
    )
    serve.add_argument('--backlog', type=int, default=2048, help='listen backlog')
    serve.add_argument(
        '--timeout-keep-alive', type=float, default=5.0, help='idle keep-alive seconds'
    )
    serve.add_argument(
        '--timeout-graceful-shutdown',
        type=float,
        default=10.0,
        help='seconds running requests get to finish on shutdown',
    )
    serve.add_argument(
        '--lifespan', choices=['auto', 'on', 'off'], default='auto', help='ASGI lifespan'
    )
    serve.add_argument(
        '--loop', choices=['auto', 'asyncio', 'uvloop'], default='auto', help='event loop'
    )
    serve.add_argument('--app-dir', default='.', help='put this directory on sys.path first')
    serve.add_argument(
        '--factory', action='store_true', help='MODULE:APP is a function returning the app'
    )


def run_serve(args: argparse.Namespace) -> int:
    """Import the app and serve it natively."""
    import socket

    from .native import Limits, serve
    from .native.loading import import_app

    try:
        app = import_app(args.app, args.app_dir, args.factory)
    except ImportError as exc:
        print('Error loading ASGI app %r: %s' % (args.app, exc), file=sys.stderr)
        return 1
    limits = Limits(
        keep_alive_timeout=args.timeout_keep_alive,
        graceful_shutdown_timeout=args.timeout_graceful_shutdown,
    )
    options: dict = {}
    if args.fd is not None:
        options['sock'] = socket.socket(fileno=args.fd)
    return serve(
        app,
        args.host,
        args.port,
        loop=args.loop,
        uds=args.uds,
        ssl_certfile=args.ssl_certfile,
        ssl_keyfile=args.ssl_keyfile,
        ssl_keyfile_password=args.ssl_keyfile_password,
        root_path=args.root_path,
        proxy_headers=args.proxy_headers,
        forwarded_allow_ips=args.forwarded_allow_ips,
        backlog=args.backlog,
        lifespan=args.lifespan,
        limits=limits,
        **options,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    if args.command == 'info':
        print(report())
        return 0
    if args.command == 'serve':
        level = 5 if args.log_level == 'trace' else getattr(logging, args.log_level.upper())
        logging.basicConfig(level=level, format='%(levelname)s: %(message)s')
        return run_serve(args)
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
