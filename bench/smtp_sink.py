"""A light SMTP sink standing for the outbound relay in the email benchmarks.

The relay is another machine in a deployment, so its CPU is not Helpline's. The benchmarks run
it on the same two cores, so it should cost as little as possible there: aiosmtpd (a complete
server, used by the test suite for real captures) costs ~1.2 ms of CPU per message received
(measured by ``bench/email_ingest.py --sink aiosmtpd`` against this sink: the bench process's
CPU per message). This one speaks the part of RFC 5321 a client sending mail needs (greeting,
EHLO/HELO, MAIL, RCPT, DATA with dot-terminated content, RSET, NOOP, QUIT; PIPELINING), counts
what it accepted and keeps nothing.
"""

from __future__ import annotations

import asyncio
import threading

EHLO_REPLY = b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"


class _Session(asyncio.Protocol):
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink
        self.buffer = b""
        self.in_data = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(b"220 sink ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.buffer += data
        replies: list[bytes] = []
        while True:
            if self.in_data:
                # The content ends with CRLF.CRLF; it may be empty (then ".CRLF" comes first).
                if self.buffer.startswith(b".\r\n"):
                    end, skip = 0, 3
                else:
                    end = self.buffer.find(b"\r\n.\r\n")
                    skip = 5
                    if end < 0:
                        break
                self.buffer = self.buffer[end + skip :]
                self.in_data = False
                self.sink.received()
                replies.append(b"250 2.0.0 Ok: queued\r\n")
                continue
            line, sep, rest = self.buffer.partition(b"\r\n")
            if not sep:
                break
            self.buffer = rest
            verb = line[:4].upper()
            if verb == b"EHLO":
                replies.append(EHLO_REPLY)
            elif verb == b"DATA":
                self.in_data = True
                replies.append(b"354 End data with <CR><LF>.<CR><LF>\r\n")
            elif verb == b"QUIT":
                replies.append(b"221 Bye\r\n")
                self.transport.write(b"".join(replies))
                self.transport.close()
                return
            elif verb in (b"HELO", b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                replies.append(b"250 Ok\r\n")
            else:
                replies.append(b"502 Command not implemented\r\n")
        if replies:
            self.transport.write(b"".join(replies))


class SmtpSink:
    """``start()`` listens on 127.0.0.1:``port`` in a thread of its own; ``count`` is the number
    of messages accepted so far; ``stop()`` closes it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.count = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="smtp-sink", daemon=True)
        self._server: asyncio.Server | None = None

    def received(self) -> None:
        with self._lock:
            self.count += 1

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            self._loop.create_server(lambda: _Session(self), "127.0.0.1", self.port)
        )
        self._ready.set()
        self._loop.run_forever()

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the SMTP sink did not start")

    def stop(self) -> None:
        def close() -> None:
            if self._server is not None:
                self._server.close()
            self._loop.stop()

        self._loop.call_soon_threadsafe(close)
        self._thread.join(10)
