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
        writer.close()

    async def main():
        server, port = await _serve(handler)
        client = load._Client("127.0.0.1", port, connections=3)
        host = f"127.0.0.1:{port}"
        started = time.perf_counter()
        statuses = await asyncio.gather(*(client.exchange(load._get(f"/feed/{i}", host)) for i in range(9)))
        elapsed = time.perf_counter() - started
        closed = await client.exchange(load._get("/close", host))
        after = await client.exchange(load._post("/write", host, "tok", b'{"a": 1}'))
        client.close()
        server.close()
        await server.wait_closed()
        return statuses, elapsed, closed, after, client.opened

    statuses, elapsed, closed, after, opened = asyncio.run(main())
    assert statuses == [200] * 9 and closed == 404 and after == 200
    # 9 requests over at most 3 connections: three rounds of 50 ms, not one
    assert elapsed >= 0.14
    # the 3 connections opened first, then one more after the server closed one
    assert opened == 4 and len(accepted) == 4
    assert requests[-1] == (b"/write", b'{"a": 1}')
    assert sorted(path for path, _ in requests[:9]) == sorted(f"/feed/{i}".encode() for i in range(9))
