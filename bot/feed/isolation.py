"""Parse feeds in a worker process, so a hostile document can neither freeze nor exhaust the bot."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import resource
import signal
import threading
import traceback
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from bot.feed.parse import MAX_FEED_BYTES, FeedParseError, parse_feed
from bot.models import ParsedFeed

log = logging.getLogger(__name__)

# A fresh interpreter: forking a process that runs an event loop and threads is unsafe.
_CONTEXT = multiprocessing.get_context("spawn")
_START_TIMEOUT = 60.0
# Time a parse may take: a hostile document (entity blow-up, pathological markup) is small and cut
# at the base; a large honest one needs more. feedparser takes ~0.7 s of CPU per MB here (11 s for a
# 15 MB, 20,000-item feed), and a busy 2-core host can stretch that fourfold.
_PARSE_BASE_SECONDS = 20.0
_PARSE_SECONDS_PER_MB = 4.0
_STOP_TIMEOUT = 2.0

# Worker -> parent replies: (kind, payload).
_READY = "ready"
_OK = "ok"
_INVALID = "invalid"
_OUT_OF_MEMORY = "memory"
_CRASHED = "crashed"


class ParserWorker:
    """One reusable parser process, started on first use and replaced whenever it had to be killed.

    Jobs run one at a time. Waiting happens in a thread, so the event loop never blocks and the
    worker is not tied to any one loop.
    """

    def __init__(self) -> None:
        self._job_lock = threading.Lock()  # held for a whole job; its holder owns the connection
        self._state_lock = threading.Lock()  # guards swapping _process and _connection
        self._process: BaseProcess | None = None
        self._connection: Connection | None = None

    @property
    def pid(self) -> int | None:
        """The worker's process id, or None when no worker is running."""
        with self._state_lock:
            return self._process.pid if self._process is not None else None

    async def parse(
        self,
        body: bytes,
        base_url: str = "",
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a caller's asyncio.timeout could not kill the worker
        memory_limit_bytes: int = 1 << 30,
    ) -> ParsedFeed:
        """parse_feed() in the worker; FeedParseError also on timeout (by default, one that grows
        with the document: parse_time_limit), memory exhaustion or a crash."""
        if timeout is None:
            timeout = parse_time_limit(len(body))
        if memory_limit_bytes <= 0 or timeout <= 0:
            raise ValueError("timeout and memory_limit_bytes must be positive")
        if len(body) > MAX_FEED_BYTES:  # refused here too, so it never crosses the pipe
            raise FeedParseError(f"feed larger than {MAX_FEED_BYTES / 1_000_000:g} MB")
        return await asyncio.to_thread(self._run_job, body, base_url, timeout, memory_limit_bytes)

    async def aclose(self) -> None:
        """Stop the worker (a running job fails with FeedParseError). The next parse starts a new one."""
        await asyncio.to_thread(self._stop)

    def _run_job(self, body: bytes, base_url: str, timeout: float, memory_limit_bytes: int) -> ParsedFeed:
        with self._job_lock:
            connection = self._ensure_started()
            try:
                connection.send((body, base_url, memory_limit_bytes))
                if not connection.poll(timeout):
                    log.warning("Feed parser worker %s still busy after %g s: killing it", self.pid, timeout)
                    self._discard(graceful=False)
                    raise FeedParseError(f"parsing took longer than {timeout:g} s")
                kind, payload = connection.recv()
            except (EOFError, OSError) as exc:
                exit_code = self._discard(graceful=False)
                log.warning("Feed parser worker died (exit code %s)", exit_code)
                raise FeedParseError(f"parser worker died (exit code {exit_code})") from exc
            if kind == _OUT_OF_MEMORY:
                self._discard(graceful=True)  # a fresh worker rather than a fragmented heap
                raise FeedParseError(
                    f"parsing needed more than {memory_limit_bytes // (1 << 20)} MB of memory"
                )
        if kind == _OK and isinstance(payload, ParsedFeed):
            return payload
        if kind == _INVALID:
            raise FeedParseError(str(payload))
        log.error("Feed parser crashed:\n%s", payload)
        raise FeedParseError("parser crashed")

    def _ensure_started(self) -> Connection:
        with self._state_lock:
            if self._process is not None and self._process.is_alive() and self._connection is not None:
                return self._connection
        self._discard(graceful=False)
        parent_end, child_end = _CONTEXT.Pipe()
        process = _CONTEXT.Process(target=_serve, args=(child_end,), name="feed-parser", daemon=True)
        process.start()
        child_end.close()
        with self._state_lock:
            self._process, self._connection = process, parent_end
        try:
            ready = parent_end.poll(_START_TIMEOUT) and parent_end.recv() == (_READY, None)
        except (EOFError, OSError):
            ready = False
        if not ready:
            exit_code = self._discard(graceful=False)
            raise FeedParseError(f"parser worker failed to start (exit code {exit_code})")
        log.debug("Started feed parser worker %s", process.pid)
        return parent_end

    def _discard(self, *, graceful: bool) -> int | None:
        """Stop and forget the worker; only the job lock's holder may call this."""
        with self._state_lock:
            process, connection = self._process, self._connection
            self._process = self._connection = None
        if process is None or connection is None:
            return None
        if graceful and process.is_alive():
            with contextlib.suppress(OSError):
                connection.send(None)
            process.join(_STOP_TIMEOUT)
        if process.is_alive():
            process.kill()
        process.join()
        exit_code = process.exitcode
        connection.close()
        process.close()
        return exit_code

    def _stop(self) -> None:
        if not self._job_lock.acquire(blocking=False):
            # A job is running: kill its worker, and its thread (seeing the pipe close) cleans up.
            with self._state_lock:
                if self._process is not None and self._process.is_alive():
                    self._process.kill()
            self._job_lock.acquire()
        try:
            self._discard(graceful=True)
        finally:
            self._job_lock.release()


def _serve(connection: Connection) -> None:
    """The worker's loop: receive (body, base_url, memory limit), reply with (kind, payload)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's business
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    connection.send((_READY, None))
    while True:
        try:
            job = connection.recv()
        except EOFError:
            return
        if job is None:
            return
        body, base_url, memory_limit = job
        del job
        try:
            limit = memory_limit if hard == resource.RLIM_INFINITY else min(memory_limit, hard)
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
            reply: tuple[str, object] = (_OK, parse_feed(body, base_url))
        except FeedParseError as exc:
            reply = (_INVALID, str(exc))
        except MemoryError:
            reply = (_OUT_OF_MEMORY, None)
        except Exception:
            reply = (_CRASHED, traceback.format_exc())
        finally:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        del body
        connection.send(reply)


def parse_time_limit(size_bytes: int) -> float:
    """How long parsing a document of `size_bytes` may take before the worker is killed."""
    return _PARSE_BASE_SECONDS + _PARSE_SECONDS_PER_MB * size_bytes / 1_000_000


_default_worker = ParserWorker()


async def parse_feed_isolated(
    body: bytes,
    base_url: str = "",
    *,
    timeout: float | None = None,  # noqa: ASYNC109 - enforced by killing the worker, see ParserWorker.parse
    memory_limit_bytes: int = 1 << 30,
) -> ParsedFeed:
    """parse_feed() in the shared worker process, with a time and a memory limit."""
    return await _default_worker.parse(body, base_url, timeout=timeout, memory_limit_bytes=memory_limit_bytes)


async def shutdown_parser_workers() -> None:
    """Stop the shared worker process; call once when the bot shuts down."""
    await _default_worker.aclose()
