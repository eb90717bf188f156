"""A load run of the whole local stack: many chat connections sending at once, nothing lost.

Each connection takes a guest token, negotiates a URL for its room (connection i is in room
i mod rooms), connects, authenticates; once all are in, every connection sends its messages
back to back (pipelined, as a busy client does) and reads. A 503 error frame (a backend too
slow under this load) is retried with the message's id, as a client should: the id makes the
retry store and broadcast nothing twice. Counted: replies lost, broadcasts lost (each message
reaches every other member of its room), frames out of order (a sender's messages, those not
retried, arrive in the order it sent them), duplicates, retries. Prints those, the reply and
broadcast latencies (p50/p99), and the memory (RSS) of each process of the stack before and
after. Loopback only; the clients share this process's event loop.

    python -m bench.soak [--connections 1000] [--messages 10] [--rooms 20]    (make soak)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.stack_echo import percentile
from devstack.stack import LocalStack

CONNECT_CONCURRENCY = 50
RETRIES = 3  # tries of a message answered 503, after the first
QUIET_SECONDS = 20.0  # no frame for this long after the sends: whatever is missing is lost
RUN_TIMEOUT = 900.0


@dataclass
class Member:
    """One connection: what it sent and when, and every frame it received."""

    index: int
    room: str
    ws: aiohttp.ClientWebSocketResponse
    sent_at: dict[int, float] = field(default_factory=dict)  # first try
    pending: deque[int] = field(default_factory=deque)  # replies come in the order sent
    tries: Counter[int] = field(default_factory=Counter)
    replies: list[tuple[str, float]] = field(default_factory=list)  # (message, received at)
    broadcasts: list[tuple[str, float]] = field(default_factory=list)
    errors: list[dict[str, object]] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return f"u{self.index}"


@dataclass
class Counts:
    replies_lost: int = 0
    broadcasts_expected: int = 0
    broadcasts_lost: int = 0
    out_of_order: int = 0
    duplicates: int = 0
    retries: int = 0  # 503 frames retried with the message's id
    reply_ms: list[float] = field(default_factory=list)
    broadcast_ms: list[float] = field(default_factory=list)


@dataclass
class SoakFigures(Counts):
    connections: int = 0
    messages: int = 0  # sent in all
    errors: int = 0
    seconds: float = 0.0
    memory_kb: dict[str, tuple[int, int]] = field(default_factory=dict)  # (before, after)

    @property
    def lost(self) -> int:
        return self.replies_lost + self.broadcasts_lost


def rss_kb(pid: int) -> int:
    """Resident memory of a process, from /proc (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def message_text(member: int, n: int) -> str:
    return f"c{member}-m{n}"


def parse_text(text: str) -> tuple[int, int]:
    member, _, n = text[1:].partition("-m")
    return int(member), int(n)


async def _send(member: Member, n: int) -> None:
    member.pending.append(n)
    member.tries[n] += 1
    text = message_text(member.index, n)
    await member.ws.send_json({"action": "sendMessage", "message": text, "id": text})


async def _read(member: Member) -> None:
    async for frame in member.ws:
        if frame.type is not aiohttp.WSMsgType.TEXT:
            break
        data = frame.json()
        now = time.perf_counter()
        if data.get("action") == "sendMessage":
            n = member.pending.popleft()
            if data.get("status") == 503 and member.tries[n] <= RETRIES:
                await _send(member, n)  # the same id: nothing stored or broadcast twice
            elif "error" in data:
                member.errors.append(data)
            else:
                member.replies.append((str(data["message"]), now))
        elif data.get("type") == "message":
            member.broadcasts.append((str(data["message"]), now))
        elif "error" in data:
            member.errors.append(data)


async def _join(
    http: aiohttp.ClientSession, host_url: str, index: int, room: str, gate: asyncio.Semaphore
) -> Member:
    async with gate:
        async with http.post(f"{host_url}/api/token", json={"name": f"u{index}"}) as response:
            response.raise_for_status()
            token = (await response.json())["token"]
        params = {"channel": "chat", "room": room}
        async with http.get(f"{host_url}/api/negotiate", params=params) as response:
            response.raise_for_status()
            url = (await response.json())["url"]
        ws = await http.ws_connect(url, heartbeat=20)
        await ws.receive_json(timeout=30)  # the welcome
        await ws.send_json({"action": "authenticate", "token": token})
        reply = await ws.receive_json(timeout=30)
        while reply.get("type") == "presence":  # others joining the room meanwhile
            reply = await ws.receive_json(timeout=30)
        if reply.get("authenticated") is not True:
            raise RuntimeError(f"u{index} could not authenticate: {reply}")
        member = Member(index, room, ws)
        member.reader = asyncio.create_task(_read(member))
        return member


async def _send_all(member: Member, messages: int) -> None:
    for n in range(messages):
        member.sent_at[n] = time.perf_counter()
        await _send(member, n)


async def _until_quiet(members: list[Member], expected: int) -> None:
    """Wait until every expected frame came, or nothing came for QUIET_SECONDS."""
    last_total, last_change = -1, time.monotonic()
    while True:
        total = sum(len(m.replies) + len(m.broadcasts) + len(m.errors) for m in members)
        if total >= expected:
            return
        if total != last_total:
            last_total, last_change = total, time.monotonic()
        elif time.monotonic() - last_change > QUIET_SECONDS:
            return
        await asyncio.sleep(0.2)


def _count(members: list[Member], messages: int) -> Counts:
    by_room: dict[str, list[Member]] = defaultdict(list)
    for member in members:
        by_room[member.room].append(member)
    c = Counts()
    for member in members:
        texts = [text for text, _ in member.replies]
        wanted = [message_text(member.index, n) for n in range(messages)]
        c.replies_lost += len(set(wanted) - set(texts))
        c.duplicates += len(texts) - len(set(texts))
        c.retries += sum(tries - 1 for tries in member.tries.values())
        once = {message_text(member.index, n) for n, t in member.tries.items() if t == 1}
        in_order = [t for t in texts if t in once]
        c.out_of_order += in_order != [t for t in wanted if t in in_order]
        for text, at in member.replies:
            c.reply_ms.append((at - member.sent_at[parse_text(text)[1]]) * 1000)
        # Broadcasts: each other member's messages, each once, in the order it sent them.
        per_sender: dict[int, list[int]] = defaultdict(list)
        seen = Counter(text for text, _ in member.broadcasts)
        c.duplicates += sum(count - 1 for count in seen.values())
        senders = {m.index: m for m in by_room[member.room] if m is not member}
        for text, at in member.broadcasts:
            sender, n = parse_text(text)
            per_sender[sender].append(n)
            if sender in senders:
                c.broadcast_ms.append((at - senders[sender].sent_at[n]) * 1000)
        for sender, other in senders.items():
            got = per_sender.get(sender, [])
            c.broadcasts_expected += messages
            c.broadcasts_lost += messages - len(set(got))
            first_try = [n for n in got if other.tries[n] == 1]
            c.out_of_order += first_try != sorted(first_try)
    return c


async def run(
    host_url: str,
    connections: int = 1000,
    messages: int = 10,
    rooms: int = 20,
    pids: dict[str, int] | None = None,
) -> SoakFigures:
    """Join `connections` to `rooms` rooms, send `messages` each at once, count what arrived."""
    pids = {"load client": os.getpid(), **(pids or {})}
    before = {name: rss_kb(pid) for name, pid in pids.items()}
    run_id = uuid.uuid4().hex[:8]
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        members = list(
            await asyncio.gather(
                *(
                    _join(http, host_url, i, f"soak-{run_id}-{i % rooms}", gate)
                    for i in range(connections)
                )
            )
        )
        per_room = Counter(m.room for m in members)
        expected = connections * messages + sum(messages * (n - 1) * n for n in per_room.values())
        started = time.perf_counter()
        try:
            await asyncio.gather(*(_send_all(m, messages) for m in members))
            await asyncio.wait_for(_until_quiet(members, expected), RUN_TIMEOUT)
            seconds = time.perf_counter() - started
        finally:
            await asyncio.gather(*(m.ws.close() for m in members), return_exceptions=True)
            for member in members:
                if member.reader is not None:
                    member.reader.cancel()
        await asyncio.sleep(2)  # the disconnected events go through
    after = {name: rss_kb(pid) for name, pid in pids.items()}
    counts = _count(members, messages)
    return SoakFigures(
        **vars(counts),
        connections=connections,
        messages=connections * messages,
        errors=sum(len(m.errors) for m in members),
        seconds=seconds,
        memory_kb={name: (before[name], after[name]) for name in pids},
    )


def report(f: SoakFigures) -> None:
    print(f"load run of the local stack: {f.connections:,} connections, chat channel")
    print(
        f"  messages sent    : {f.messages:>10,}  in {f.seconds:.1f} s (pipelined per connection)"
    )
    print(f"  replies lost     : {f.replies_lost:>10,}")
    print(f"  broadcasts       : {f.broadcasts_expected:>10,}  expected")
    print(f"  broadcasts lost  : {f.broadcasts_lost:>10,}")
    print(f"  out of order     : {f.out_of_order:>10,}")
    print(f"  duplicates       : {f.duplicates:>10,}")
    print(f"  retries after 503: {f.retries:>10,}")
    print(f"  error frames     : {f.errors:>10,}")
    print(
        f"  reply latency    : p50 {percentile(f.reply_ms, 50):.0f} ms, "
        f"p99 {percentile(f.reply_ms, 99):.0f} ms"
    )
    print(
        f"  broadcast latency: p50 {percentile(f.broadcast_ms, 50):.0f} ms, "
        f"p99 {percentile(f.broadcast_ms, 99):.0f} ms"
    )
    for name, (before, after) in f.memory_kb.items():
        print(
            f"  memory {name:<10}: {before / 1024:>7.1f} MB before, {after / 1024:>7.1f} MB after"
        )


def main(argv: list[str] | None = None) -> SoakFigures:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=10, help="sendMessage per connection")
    parser.add_argument("--rooms", type=int, default=20)
    args = parser.parse_args(argv)
    with LocalStack(settings={"GUEST_LOGIN": "true"}) as stack:
        pids = {child.name: child.pid for child in stack.children if child.pid is not None}
        figures = asyncio.run(
            run(stack.host_url, args.connections, args.messages, args.rooms, pids)
        )
        stack.check()
    report(figures)
    return figures


if __name__ == "__main__":
    main()
