"""The load test's own HTTP client (benchmarks.load): answers read whole, connections kept alive and
capped, a closed connection replaced, and the latency of a request that waited for a connection counted."""

from __future__ import annotations

import asyncio
import time

from benchmarks import load


async def _serve(handler):
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def test_answers_are_read_whole_and_connections_are_kept_alive_and_capped():
    accepted, requests = [], []

    async def handler(reader, writer):
        accepted.append(writer)
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length")), 0)
            body = await reader.readexactly(length)
            requests.append((head.split(b" ")[1], body))
            await asyncio.sleep(0.05)  # slow enough that concurrent requests need several connections
            if head.startswith(b"GET /close"):
                writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno")
                await writer.drain()
                break
            payload = b"x" * 20000
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(payload) + payload)
            await writer.drain()
            if head.startswith(b"GET /last"):  # then closed without a word, as a keep-alive timeout does
                break
        writer.close()

    async def main():
        server, port = await _serve(handler)
        client = load._Client("127.0.0.1", port, connections=3)
        host = f"127.0.0.1:{port}"
        started = time.perf_counter()
        statuses = await asyncio.gather(*(client.exchange(load._get(f"/feed/{i}", host)) for i in range(9)))
        elapsed = time.perf_counter() - started
        opened_first = client.opened
        closed = await client.exchange(load._get("/close", host))
        # every connection answers once more and is then closed by the server while idle
        last = await asyncio.gather(*(client.exchange(load._get("/last", host)) for _ in range(3)))
        await asyncio.sleep(0.05)
        # sent on connections the server has closed: each sent again on a new one
        after = [await client.exchange(load._post("/write", host, "tok", b'{"a": %d}' % i)) for i in range(3)]
        client.close()
        server.close()
        await server.wait_closed()
        return statuses, elapsed, opened_first, closed, last, after, client.opened

    statuses, elapsed, opened_first, closed, last, after, opened = asyncio.run(main())
    assert statuses == [200] * 9 and closed == 404 and last == [200] * 3 and after == [200] * 3
    # 9 requests over at most 3 connections: three rounds of 50 ms, not one
    assert elapsed >= 0.14 and opened_first == 3
    # one connection more after the server said "close", three more after it dropped the idle ones
    assert opened == len(accepted) == 7
    assert [r for r in requests if r[0] == b"/write"] == [(b"/write", b'{"a": %d}' % i) for i in range(3)]
    assert sorted(path for path, _ in requests[:9]) == sorted(f"/feed/{i}".encode() for i in range(9))
