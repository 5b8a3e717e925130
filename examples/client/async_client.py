"""Engine.IO client (asyncio): connect, send one message, print the echo, disconnect.

Start one of the example servers, then::

    python async_client.py [URL]  # URL defaults to http://127.0.0.1:5000
"""

import asyncio
import sys

import engineio_fast as engineio


async def main(url):
    client = engineio.AsyncClient()
    echoed = asyncio.Event()

    @client.on('message')
    async def message(data):
        print('echo:', data, flush=True)
        echoed.set()

    await client.connect(url)
    print('connected, transport', client.transport(), flush=True)
    await client.send('hello')
    try:
        await asyncio.wait_for(echoed.wait(), timeout=5)
    finally:
        await client.disconnect()


if __name__ == '__main__':
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else 'http://127.0.0.1:5000'))
