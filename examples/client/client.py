"""Engine.IO client (sync): connect, send one message, print the echo, disconnect.

Start one of the example servers, then::

    python client.py [URL]        # URL defaults to http://127.0.0.1:5000
"""

import sys
import threading

import engineio_fast as engineio

url = sys.argv[1] if len(sys.argv) > 1 else 'http://127.0.0.1:5000'
client = engineio.Client()
echoed = threading.Event()


@client.on('message')
def message(data):
    print('echo:', data, flush=True)
    echoed.set()


client.connect(url)
print('connected, transport', client.transport(), flush=True)
client.send('hello')
got_echo = echoed.wait(timeout=5)
client.disconnect()
sys.exit(0 if got_echo else 'no echo within 5 s')
