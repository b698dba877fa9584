"""A ScriptedServer in its own process, so a test can `kill -9` the model server mid-stream.

Usage: python -m tests.reliability.scripted_proc  -> prints the port, then serves a slow streamed answer
to every chat request until killed.
"""

from __future__ import annotations

import sys
import time

from tests.support.scripted_server import Reply, ScriptedServer

if __name__ == "__main__":
    words = " ".join(f"word{i}" for i in range(200))
    server = ScriptedServer(default=Reply(content=words, token_delay=0.05)).start()
    print(server.port, flush=True)
    sys.stdout.close()
    while True:
        time.sleep(3600)
