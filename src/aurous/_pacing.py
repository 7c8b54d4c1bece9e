"""Pacing: the clients of one team stay inside the team's limits together.

Two kinds of limit apply to a team (``X-RateLimit-*`` headers, ``429`` answers):

- **Rate limits**: token buckets, one per kind of request, refilled continuously. A `Bucket` per
  route (``"POST /v1/images"``) keeps an estimate of its tokens from the ``X-RateLimit-Limit`` /
  ``-Remaining`` / ``-Reset`` headers (or their ``RateLimit-*`` spellings) and spaces requests so
  the bucket is not emptied. Bucket names are never assumed: the state is keyed by route.
- **The concurrency limit**: how many generations may be unfinished at once. It is not
  announced; the `Gate` learns it from ``429 concurrency_limit_exceeded`` (the generations in
  flight then are what the team may have) and lets a waiting create go when a generation is seen
  finished (by any retrieve, wait, list or webhook) — or, to find capacity that clients outside
  the gate freed, one probe after ``Retry-After``, backing off while probes are refused.

Until the limit is known, creates ramp up like TCP's slow start: one, then one more for every
create accepted, so the limit is found with at most one refusal. Waiting creates are admitted in
the order they asked (a FIFO of tickets), so no caller starves.

The state lives in a *store* (`aurous._store`): in the process by default, or shared by every
process and machine of a fleet (Redis, or a directory on one host), so they pace the team
together. Everything the gate keeps is therefore plain data, and every entry names its *owner*
(a process): an owner that stops renewing its lease (killed, out of memory) loses its slots
after `OWNER_LEASE` seconds. `aurous._flow` consults the `Pacer` around every call; nothing else
in the SDK knows about pacing.
"""

from __future__ import annotations

import collections
import email.utils
import itertools
import logging
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from ._response import YEAR, Figures, figures, header_values, until_reset
from ._steps import Shared, Sleep, Steps, WaitFor
from ._store import Kind, LocalStore, Op, Store

if TYPE_CHECKING:
    import httpx

    from ._call import Call
    from ._errors import AurousError, RateLimitError

__all__ = [
    "CONCURRENCY_CODE",
    "OWNER_LEASE",
    "Admission",
    "Bucket",
    "Gate",
    "LocalPacer",
    "Pacer",
    "WaitKind",
    "server_time",
]

T = TypeVar("T")

_READ_EVERY = 1.0
_SKIM_SHARE = 0.25
_SKIM_FLOOR = 10
"""A bucket read within `_READ_EVERY` seconds and holding a `_SKIM_SHARE` of its capacity (at
least `_SKIM_FLOOR` tokens) is not read again from every answer (`Bucket.skims`)."""
_UNKNOWN_RATE_WAIT = 1.0
"""Wait when a bucket looks empty but its refill rate is not known yet."""
_RATE_MEMORY = 300.0
"""Seconds a precise refill-rate reading is preferred over coarser new ones."""
_FIRST_PROBE_DELAY = 5.0
"""Seconds without any generation finishing before a held create probes."""
_MAX_PROBE_BACKOFF = 30.0
"""Longest pause between two probes of a concurrency limit that keeps refusing."""
_QUICK_PROBE = 0.25
"""Pause before the next probe after one went through: the gate counts generations that
finished unseen, and finds them out quickly (a client that never polls, say)."""
_STALE_AFTER = 3600.0
"""A generation not seen finished within this many seconds stops counting as in flight (its
owner may never read it again, e.g. when it learns the outcome from a webhook it lost)."""
_MAX_TRACKED = 10_000
_RESERVATION_TTL = 120.0
"""Seconds a token promised to a request counts if its answer is never settled (its process
died mid-request): longer than any request takes."""
OWNER_LEASE = 30.0
"""Seconds after its last renewal that a process's slots and tickets stop counting."""
_QUEUE_STALE = 8.0
"""A waiting create re-asks at least every `_MAX_HELD_WAIT`; a ticket not refreshed for this
long belongs to a caller that is gone and no longer holds its place."""
_MAX_HELD_WAIT = 3.0
_QUEUE_REFRESH = 1.5
"""Seconds between two refreshes of a held create's ticket (`_QUEUE_STALE` is well above)."""
_SENDING_STALE = 120.0
"""A create admitted this long ago and never answered belongs to a call that is gone (its
answer was lost with a store outage): it stops counting."""

CONCURRENCY_CODE = "concurrency_limit_exceeded"
_TEAM_LIMIT = r"\b(\d+) generations are already"
"""The team's limit, as the refusal's message states it (compiled by `re` when first needed:
most processes are never refused)."""
_SHARING_HINT = (
    "aurous: this client holds %d of the team's %d generation slots when it is refused: other "
    "clients of the team (other processes or machines) hold the rest, and each paces alone, so "
    "one may keep slots the others wait for. Processes that share a team pace together through "
    "a shared store: pacing='file:///dir' on one host or pacing='redis://...', or the "
    "AUROUS_PACING_URL variable (docs: deploying a fleet). This is said once per process."
)
_sharing_hinted = False

logger = logging.getLogger("aurous")

GATE = "gate"


def bucket_key(route: str) -> str:
    return f"bucket:{route}"


class Bucket:
    """The estimated tokens of one rate-limit bucket, as seen through one route's responses.

    Capacity ``C`` refills at ``r`` tokens per second; ``Remaining`` is the whole tokens left
    after a request and ``Reset`` the Unix time the bucket is full again, so
    ``r ≈ (C − Remaining) / (Reset − now)``. Between responses the estimate grows by ``r`` per
    second and shrinks by the requests sent (or promised to a waiter) since.
    """

    __slots__ = (
        "limit",
        "outstanding",
        "rate",
        "rate_at",
        "rate_deficit",
        "reset",
        "seen_at",
        "tokens",
    )

    def __init__(self) -> None:
        self.tokens: float | None = None
        self.seen_at = 0.0
        self.limit: int | None = None
        self.rate: float | None = None
        self.rate_deficit = 0
        self.rate_at = 0.0
        self.reset: int | None = None
        """The latest ``Reset`` (a Unix time) learned from: it never goes back in a token bucket."""
        self.outstanding: collections.deque[float] = collections.deque()
        """When each token promised to a request not answered yet stops counting."""

    def reserve(self, now: float) -> float:
        """Take a token for a request about to be sent; the seconds to wait before sending it.

        The token is promised at once, so waiters queue one refill interval apart instead of
        all waking at the same moment.
        """
        delay = self._delay(now)
        self.outstanding.append(now + _RESERVATION_TTL + delay)
        return delay

    def _delay(self, now: float) -> float:
        outstanding = self.outstanding
        while outstanding and outstanding[0] < now:
            outstanding.popleft()  # promised to a request whose answer never came back
        if self.tokens is None:
            return 0.0
        tokens = self.tokens
        if self.rate is not None:
            tokens += self.rate * max(0.0, now - self.seen_at)
            if self.limit is not None:
                tokens = min(float(self.limit), tokens)
        tokens -= len(outstanding)
        if tokens >= 1:
            return 0.0
        if self.rate is None:
            return _UNKNOWN_RATE_WAIT
        return (1 - tokens) / self.rate

    def settle(self, read: Figures | None, now: float, wall: float) -> None:
        """The request answered; learn from its rate-limit figures (``None``: no answer)."""
        if self.outstanding:
            self.outstanding.popleft()
        if read is None:
            return
        limit, remaining, reset = read
        if remaining is None:
            return
        if reset is not None and reset >= YEAR:
            # Using tokens moves the time the bucket is full again later, refilling does not
            # move it back: an earlier Reset is an answer overtaken by a later one (concurrent
            # requests), whose higher Remaining would promise a token already spent.
            if self.reset is not None and reset < self.reset:
                return
            self.reset = reset
        self.tokens = float(remaining)
        self.seen_at = now
        self.limit = limit
        if limit is not None and remaining < limit:
            until_full = until_reset(reset, wall)
            deficit = limit - remaining
            # Whole tokens over whole seconds: a bucket seen near full gives a coarse rate (one
            # token and one second off either way). Keep the reading taken furthest from full,
            # unless it is old enough that the team's tier may have changed since.
            fresher = now - self.rate_at > _RATE_MEMORY
            if until_full and (deficit >= self.rate_deficit or fresher):
                self.rate = deficit / until_full
                self.rate_deficit = deficit
                self.rate_at = now

    def skims(self, now: float) -> bool:
        """Whether the figures of an answer may go unread: the bucket was read less than
        `_READ_EVERY` ago and holds at least a quarter of its capacity (and `_SKIM_FLOOR`
        tokens) beyond what is promised, so no wait could come of them. Reading every answer's
        headers is most of what pacing costs a call far from the limits."""
        tokens = self.tokens
        limit = self.limit
        if tokens is None or limit is None or now - self.seen_at >= _READ_EVERY:
            return False
        return tokens - len(self.outstanding) >= max(_SKIM_FLOOR, limit * _SKIM_SHARE)

    def spent(self) -> None:
        """A request answered whose figures went unread (`skims`): it took a token."""
        if self.outstanding:
            self.outstanding.popleft()
        if self.tokens is not None:
            self.tokens -= 1

    def emptied(self, now: float, retry_after: float) -> None:
        """A 429 ``too_many_requests``: the bucket is empty whatever the estimate said.

        It holds a token again after ``retry_after``; without a known refill rate, that is the
        best estimate of one.
        """
        self.tokens = 0.0
        self.seen_at = now
        if self.rate is None and retry_after > 0:
            self.rate = 1.0 / retry_after

    def figures(self, now: float) -> tuple[int | None, float | None, float | None, float]:
        """What is known, for planning (``estimate_batch``; pacing itself uses `reserve`).

        (capacity, refill per second, tokens estimated at ``now``, span): None where not
        learned. ``span`` is how far from full the bucket was when last seen, in seconds: the
        refill rate comes from a whole-second ``Reset``, so it is only as precise as one second
        in ``span``.
        """
        if self.tokens is None:
            return self.limit, self.rate, None, 0.0
        rate = self.rate or 0.0
        span = (self.limit - self.tokens) / rate if self.limit is not None and rate else 0.0
        tokens = self.tokens + rate * max(0.0, now - self.seen_at)
        if self.limit is not None:
            tokens = min(float(self.limit), tokens)
        return self.limit, self.rate, tokens, span

    # ---- as plain data, for a shared store ------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        return {
            "tokens": self.tokens,
            "seen_at": self.seen_at,
            "limit": self.limit,
            "rate": self.rate,
            "rate_deficit": self.rate_deficit,
            "rate_at": self.rate_at,
            "reset": self.reset,
            "outstanding": list(self.outstanding),
        }

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> Bucket:
        bucket = cls()
        bucket.tokens = data.get("tokens")
        bucket.seen_at = float(data.get("seen_at", 0.0))
        bucket.limit = data.get("limit")
        bucket.rate = data.get("rate")
        bucket.rate_deficit = int(data.get("rate_deficit", 0))
        bucket.rate_at = float(data.get("rate_at", 0.0))
        bucket.reset = data.get("reset")
        bucket.outstanding = collections.deque(data.get("outstanding", ()))
        return bucket


Entry = tuple[str, float]
"""(owner, since): who holds a slot or a ticket, and since when."""


class Gate:
    """How many of the team's generations may be unfinished: the team's concurrency limit.

    ``sending`` holds the creates admitted but not answered, ``tracked`` the generations not yet
    seen finished, ``queue`` the creates waiting to be admitted, oldest first. A create may go
    while ``len(sending) + len(tracked)`` is below the limit (or, until the first refusal
    teaches the limit, below the slow-start ``window``) and no earlier create is waiting.

    The limit is re-probed in two ways. After ``2 × limit`` creates accepted in a row it is
    raised by one, so capacity that clients outside the gate freed is found again; when such a
    raise is refused, the run needed for the next one doubles, so a fleet working at the true
    limit wastes fewer and fewer requests on it. And when creates are held back while no
    generation finishes for ``probe_delay`` seconds (generations followed only by webhooks may
    never be read again), one create goes anyway; refused, the delay doubles up to
    `_MAX_PROBE_BACKOFF`.
    """

    def __init__(self) -> None:
        self.limit: int | None = None
        self.window = 1
        self.sending: dict[str, Entry] = {}
        self.tracked: dict[str, Entry] = {}
        self.queue: dict[str, Entry] = {}
        self.owners: dict[str, float] = {}
        """Owner → time of its last renewal (shared stores only; in a process: empty)."""
        self.probe_at = 0.0
        self.probe_delay = _FIRST_PROBE_DELAY
        self.probing: str | None = None
        self.probe_gain = 1
        """Generations a probe that goes through shows to be finished unseen (doubles with each
        such probe in a row)."""
        self.progress_at = 0.0
        self.streak = 0
        self.streak_factor = 2
        self.raised = False

    # ---- admission -----------------------------------------------------------------------------
    def enter(self, ticket: str, owner: str, now: float, expire: bool = True) -> float | None:
        """Admit create ``ticket`` (``None``), or the seconds to wait before asking again
        (``expire=False``: the caller has just expired what was stale)."""
        if expire:
            self.expire(now)
        ahead = 0
        for queued in self.queue:
            if queued == ticket:
                break
            ahead += 1
        unsettled = len(self.sending) + len(self.tracked)
        capacity = self.window if self.limit is None else self.limit
        if unsettled + ahead < capacity:
            self._admit(ticket, owner, now)
            return None
        if self.limit is None:
            self._hold(ticket, owner, now)
            return _UNKNOWN_RATE_WAIT
        probe_at = max(self.probe_at, self.progress_at + self.probe_delay)
        if self.probing is None and now >= probe_at and ahead == 0:
            self.probing = ticket
            self._admit(ticket, owner, now)
            return None
        self._hold(ticket, owner, now)
        wait = self.probe_delay if self.probing is not None else probe_at - now
        return max(0.001, min(wait, _MAX_HELD_WAIT))

    def ask(self, ticket: str, owner: str, now: float) -> tuple[float | None, bool]:
        """`enter`, after what every ask does first: renew ``owner``'s lease (shared stores)
        and expire what is stale. (`enter`'s answer, whether expiring freed anything.)"""
        if owner != LocalStore.owner:
            self.renew(owner, now)
        freed = self.expire(now)
        return self.enter(ticket, owner, now, expire=False), freed

    def _hold(self, ticket: str, owner: str, now: float) -> None:
        # Refreshed only now and then: a held create that asks again changes nothing most of
        # the time, and a shared store then writes nothing (many waiters woken together).
        entry = self.queue.get(ticket)
        if entry is None or now - entry[1] > _QUEUE_REFRESH:
            self.queue[ticket] = (owner, now)

    def _admit(self, ticket: str, owner: str, now: float) -> None:
        self.queue.pop(ticket, None)
        self.sending[ticket] = (owner, now)

    def force(self, ticket: str, owner: str, now: float) -> None:
        """Send without admission (the caller's wait budget ran out): the server decides."""
        self._admit(ticket, owner, now)

    def leave(self, ticket: str) -> bool:
        """A waiting create gave up (a deadline, a cancellation): its place goes to the next."""
        return self.queue.pop(ticket, None) is not None

    # ---- answers -------------------------------------------------------------------------------
    def accepted(self, ticket: str, generation_id: str | None, now: float) -> bool:
        """Create ``ticket`` was answered 2xx with a generation (its id if not finished yet);
        True if that made room for another create (the slow-start window or the limit grew,
        or a probe freed slots)."""
        owner, _ = self.sending.pop(ticket, ("", now))
        room = self.limit is None or generation_id is None
        if generation_id is not None:
            self.tracked[generation_id] = (owner, now)
            if len(self.tracked) > _MAX_TRACKED:
                del self.tracked[next(iter(self.tracked))]
        self.progress_at = now
        if self.limit is None:
            self.window += 1
        elif self.probing == ticket:
            # A create went through a gate that looked full: generations it counts finished
            # unseen (a client that never polls learns of finishes only from webhooks and from
            # this), or clients outside the gate freed capacity. Either way there is room: free
            # the oldest slots — twice as many after each such probe in a row — and probe again
            # soon, so a gate that counts many finished generations recovers in a few probes.
            # A gate that holds nothing else learns the same way that clients outside it are
            # finishing: in a fleet of processes pacing alone, probing soon finds the slots of
            # one that ran out of work (measured: 1.3x against 2.0x at 12 x 5 in
            # benchmarks/fleet.py), for about one more 429 per process.
            self.probing = None
            older = [g for g in self.tracked if g != generation_id][: self.probe_gain]
            for gid in older:
                del self.tracked[gid]
            self.probe_gain = min(self.probe_gain * 2, _MAX_TRACKED)
            self.limit = max(self.limit, len(self.tracked))
            self.probe_delay = _QUICK_PROBE
            self.streak_factor = 2
            room = True
        else:
            self.streak += 1
            if self.streak >= self.streak_factor * max(1, self.limit):
                self.limit += 1
                self.streak = 0
                self.raised = True
                room = True
            elif self.streak >= max(1, self.limit):
                self.raised = False  # the raise held for a while: it was right
        return room

    def answered(
        self,
        ticket: str | None,
        readable: bool,
        started: str | None,
        finished: Sequence[str],
        now: float,
    ) -> bool:
        """A 2xx answer (see `_outcome`): create ``ticket``'s, if it was one, and the
        generations it shows ``finished``. True if that made room for another create."""
        room = False
        if ticket is not None:
            if readable:
                room = self.accepted(ticket, started, now)
            else:
                self.released(ticket)  # an answer that tells nothing: the slot is given back
                room = True
        for generation_id in finished:
            room = self.seen(generation_id, now) or room
        return room

    def refused(self, ticket: str, retry_after: float, now: float) -> None:
        """Create ``ticket`` was refused with ``429 concurrency_limit_exceeded``."""
        self.sending.pop(ticket, None)
        # The server allows at most what was in flight when it said no (clients outside the gate
        # may hold the rest: then this is 0 and only probes go until slots free up). Some of
        # those may have finished unseen, so a known limit only ever comes down by one here.
        in_flight = len(self.tracked)
        probing = self.probing == ticket
        if self.limit is None:
            self.limit = in_flight
        elif self.raised:
            self.limit -= 1  # the last raise was one too many
            self.streak_factor = min(64, self.streak_factor * 2)
        elif probing:
            self.limit = min(self.limit, in_flight)
        else:
            self.limit = min(in_flight, self.limit - 1)
        self.limit = max(0, self.limit)
        self.raised = False
        self.streak = 0
        if probing:
            self.probing = None
            if self.probe_gain > 1:
                # Quick probes just found what is really in flight: back to the usual pace.
                self.probe_delay = _FIRST_PROBE_DELAY
            else:
                self.probe_delay = min(_MAX_PROBE_BACKOFF, self.probe_delay * 2)
            self.probe_gain = 1
        elif not self.tracked:
            # Nothing behind the gate is in flight, so nothing here can free a slot: only
            # clients outside it can. Ask again when the server says, backing off.
            self.probe_delay = max(retry_after, 0.1)
        else:
            self.probe_delay = _FIRST_PROBE_DELAY
        self.probe_at = now + max(self.probe_delay, retry_after)

    def released(self, ticket: str) -> None:
        """Create ``ticket`` ended without an answer that tells anything (an error, a cancel)."""
        self.sending.pop(ticket, None)
        self.queue.pop(ticket, None)
        if self.probing == ticket:
            self.probing = None

    def seen(self, generation_id: str, now: float) -> bool:
        """Generation ``generation_id`` was seen finished; True if that freed a slot."""
        if self.tracked.pop(generation_id, None) is None:
            return False
        self.progress_at = now
        return True

    # ---- leases --------------------------------------------------------------------------------
    def renew(self, owner: str, now: float) -> None:
        if now - self.owners.get(owner, -OWNER_LEASE) > 1.0:  # once a second is plenty
            self.owners[owner] = now

    def expire(self, now: float) -> bool:
        """Forget what dead owners held, tickets nobody refreshes, and generations never seen
        again; True if anything was freed."""
        freed = False
        tracked = self.tracked
        while tracked:
            oldest = next(iter(tracked))
            if now - tracked[oldest][1] < _STALE_AFTER:
                break
            del tracked[oldest]
            freed = True
        # Each table is scanned only when it holds something: this runs before every create.
        stale = (
            [t for t, (_, since) in self.queue.items() if now - since > _QUEUE_STALE]
            if self.queue
            else ()
        )
        for ticket in stale:
            del self.queue[ticket]
        if self.sending:
            for t in [t for t, (_, since) in self.sending.items() if now - since > _SENDING_STALE]:
                del self.sending[t]
                freed = True
        if self.owners:
            dead = {o for o, renewed in self.owners.items() if now - renewed > OWNER_LEASE}
        else:
            dead = set()
        if dead:
            for table in (self.sending, self.tracked, self.queue):
                for key in [k for k, (owner, _) in table.items() if owner in dead]:
                    del table[key]
                    freed = True
            if self.probing is not None and self.probing not in self.sending:
                self.probing = None
            for owner in dead:
                del self.owners[owner]
        return freed or bool(stale)

    # ---- as plain data, for a shared store ------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "window": self.window,
            "sending": self.sending,
            "tracked": self.tracked,
            "queue": self.queue,
            "owners": self.owners,
            "probe_at": self.probe_at,
            "probe_delay": self.probe_delay,
            "probing": self.probing,
            "probe_gain": self.probe_gain,
            "progress_at": self.progress_at,
            "streak": self.streak,
            "streak_factor": self.streak_factor,
            "raised": self.raised,
        }

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> Gate:
        gate = cls()
        gate.limit = data.get("limit")
        gate.window = int(data.get("window", 1))
        for name in ("sending", "tracked", "queue"):
            setattr(
                gate, name, {k: (str(v[0]), float(v[1])) for k, v in data.get(name, {}).items()}
            )
        gate.owners = {str(k): float(v) for k, v in data.get("owners", {}).items()}
        gate.probe_at = float(data.get("probe_at", 0.0))
        gate.probe_delay = float(data.get("probe_delay", _FIRST_PROBE_DELAY))
        gate.probing = data.get("probing")
        gate.probe_gain = int(data.get("probe_gain", 1))
        gate.progress_at = float(data.get("progress_at", 0.0))
        gate.streak = int(data.get("streak", 0))
        gate.streak_factor = int(data.get("streak_factor", 2))
        gate.raised = bool(data.get("raised", False))
        return gate


_date_cache: tuple[str, float] | None = None
_tickets = itertools.count()


def server_time(raw: str | None) -> float | None:
    """The server's clock from a response's ``Date`` header: rate-limit resets are instants on
    that clock, and reading them against ours would go wrong by however far ours is off."""
    global _date_cache
    if raw is None:
        return None
    cached = _date_cache
    if cached is not None and cached[0] == raw:
        return cached[1]
    try:
        when = email.utils.parsedate_to_datetime(raw).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    _date_cache = (raw, when)  # one parse per second of the server's clock, not per response
    return when


WaitKind = Literal["rate_limit", "concurrency"]
"""What a pacing wait is for: a token in a rate-limit bucket, or a free concurrency slot."""


class Waits(Protocol):
    """The waiting budget of one call (the flow's): whether a wait fits, and what it spent."""

    def fits(self, seconds: float) -> bool: ...

    def left(self) -> float: ...

    def spent(self, seconds: float) -> None: ...

    def log(self, seconds: float, what: str, kind: WaitKind) -> None: ...

    def now(self) -> float: ...


class Pacer:
    """The pacing of one client and its ``with_options`` copies — or of every process sharing
    its store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.signal = store.signal
        on_tick = getattr(store, "on_tick", None)
        if on_tick is not None:
            on_tick(self._renew)
            store.on_recover(self._rejoin)  # type: ignore[attr-defined]

    def _rejoin(self) -> None:
        """The shared store is back after an outage: the tickets this process left in its
        queue belong to waiters that have since asked the fallback; they must not hold the line
        for the fleet (the waiters queue again when they next ask)."""
        self.store.apply(GATE, Gate, _forget_tickets(self.store.owner))

    def _renew(self) -> None:
        """Keep this process's lease on what it holds (the store's listener thread calls this
        every few seconds; a process that stops, stops renewing)."""
        if self.store.peek(GATE, Gate) is not None:  # it has created something, or waited
            self.store.apply(GATE, Gate, _renew(self.store.owner))

    def set_clock(self, clock: Any) -> None:
        """Time as the client sees it (the emulator's manual clock, in tests): a store in the
        process keeps its state on that clock."""
        set_clock = getattr(self.store, "set_clock", None)
        if set_clock is not None:
            set_clock(clock)

    def read(self, headers: Mapping[str, str] | None) -> tuple[Figures | None, float]:
        """A response's rate-limit figures, and now on the server's clock (its ``Date``, else
        the store's wall clock): one pass over the headers."""
        if headers is None:
            return None, self.store.wall()
        values = header_values(headers)
        raw_date = values[6]
        when = None if raw_date is None else server_time(raw_date)
        if when is None:
            when = self.store.wall()
        if values[1] is None and values[4] is None:
            return None, when  # no Remaining, nothing to learn: skip the parsing
        read = figures(values)
        return (None if read[1] is None else read), when

    # ---- state, for planning and tests (may be stale with a shared store) -----------------------
    @property
    def gate(self) -> Gate:
        gate: Gate | None = self.store.peek(GATE, Gate)
        if gate is None and not self.store.shared:
            gate = self.store.apply(GATE, Gate, _state)
        return gate if gate is not None else Gate()

    def bucket(self, route: str) -> Bucket:
        bucket: Bucket | None = self.store.peek(bucket_key(route), Bucket)
        return bucket if bucket is not None else Bucket()

    # ---- applying operations -----------------------------------------------------------------------
    def apply(self, key: str, kind: Kind, op: Op[T]) -> Steps[T]:
        """``op`` on the state under ``key``: inline in a process, a `Shared` step otherwise."""
        store = self.store
        if not store.shared:
            return store.apply(key, kind, op)
        result: T = yield Shared(store, key, kind, op)
        return result

    # ---- before a request ----------------------------------------------------------------------
    def admit(
        self, call: Call[Any], waits: Waits, refused: RateLimitError | None = None
    ) -> Steps[Admission]:
        """Wait until ``call`` may be sent: a free slot (creates) and a token in its bucket.

        ``refused``: the concurrency 429 this call last got, if any — the server has said no
        once, so a slot that cannot come within the budget raises it instead of asking again.
        """
        ticket = None
        if call.creates_generation:
            # Unique across the fleet: the owner is unique to this process (and to each fork).
            ticket = f"{self.store.owner}:{next(_tickets)}"
            yield from self._enter(ticket, waits, refused)
        route = call.route
        delay = yield from self.apply(bucket_key(route), Bucket, _reserve)
        yield from _token_wait(self.store, delay, route, ticket, waits)
        return Admission(self, route, ticket)

    def _enter(self, ticket: str, waits: Waits, refused: RateLimitError | None) -> Steps[None]:
        """Wait until create ``ticket`` holds a concurrency slot (or goes without one)."""
        try:
            yield from self._queue(ticket, waits, refused)
        except BaseException:
            self.store.apply_soon(GATE, Gate, _leave(ticket))  # its place goes to the next
            raise

    def _queue(self, ticket: str, waits: Waits, refused: RateLimitError | None) -> Steps[None]:
        owner = self.store.owner
        enter = _enter(ticket, owner)
        while True:
            version = self.signal.version  # read first: a wake-up in between is not missed
            seconds = yield from self.apply(GATE, Gate, enter)
            if seconds is None:
                return
            if not waits.fits(seconds):
                if refused is None:
                    # Out of budget: send anyway and let the server decide.
                    yield from self.apply(GATE, Gate, _force(ticket, owner))
                    return
                # The server said no already: wait for a slot as long as the budget lasts
                # (asking again at once would only be refused again, and again).
                seconds = waits.left()
                if seconds <= 0:
                    yield from self.apply(GATE, Gate, _leave(ticket))
                    raise refused
            start = waits.now()
            waits.log(seconds, "a free concurrency slot", "concurrency")
            yield WaitFor(self.signal, version, seconds, "concurrency")
            waits.spent(waits.now() - start)

    # ---- what the client learns ------------------------------------------------------------------
    def finished(self, generation_ids: list[str]) -> Steps[None]:
        """Generations known to be finished (a webhook said so): their slots are free."""
        yield from self.apply(GATE, Gate, _seen(generation_ids))

    def finished_now(self, generation_ids: list[str]) -> None:
        """`finished`, outside any call (a webhook receiver): blocking on a shared store."""
        self.store.apply(GATE, Gate, _seen(generation_ids))

    def __repr__(self) -> str:
        gate = self.gate
        limit = "unknown" if gate.limit is None else gate.limit
        return (
            f"<Pacer store={self.store!r} concurrency_limit={limit} "
            f"in_flight={len(gate.tracked)} sending={len(gate.sending)} waiting={len(gate.queue)}>"
        )


class Admission:
    """A request let through by the pacer: what it reserved, given back when it is answered."""

    __slots__ = ("pacer", "route", "ticket")

    def __init__(self, pacer: Pacer, route: str, ticket: str | None) -> None:
        self.pacer = pacer
        self.route = route
        self.ticket = ticket

    def answered(self, response: httpx.Response, result: Any, readable: bool) -> Steps[None]:
        """A 2xx came back; ``result`` is what it was read into (unless not ``readable``)."""
        pacer = self.pacer
        yield from pacer.apply(
            bucket_key(self.route), Bucket, _settle(*pacer.read(response.headers))
        )
        # Finished rows are looked up in the state last seen (the operation checks again): a
        # read that started nothing and shows nothing finished leaves the gate alone.
        gate: Gate | None = pacer.store.peek(GATE, Gate)
        started, finished = _outcome(result, readable, gate)
        if self.ticket is not None or finished:
            yield from pacer.apply(GATE, Gate, _answered(self.ticket, readable, started, finished))

    def rate_limited(self, error: RateLimitError, retry_after: float) -> Steps[None]:
        """A 429: the bucket is empty, or (``concurrency_limit_exceeded``) the gate full."""
        headers = error.response.headers
        figures, when = self.pacer.read(headers)
        concurrency = error.code == CONCURRENCY_CODE
        yield from self.pacer.apply(
            bucket_key(self.route), Bucket, _limited(figures, when, not concurrency, retry_after)
        )
        ticket = self.ticket
        if ticket is not None:
            op = _refused(ticket, retry_after) if concurrency else _released(ticket)
            yield from self.pacer.apply(GATE, Gate, op)
            if concurrency and not _sharing_hinted and not self.pacer.store.shared:
                _hint_sharing(error.message, self.pacer.store.peek(GATE, Gate))

    def failed(self, error: AurousError) -> Steps[None]:
        """The request failed (retried or not): what it reserved is given back."""
        response = getattr(error, "response", None)
        headers = response.headers if response is not None else None
        yield from self.pacer.apply(
            bucket_key(self.route), Bucket, _settle(*self.pacer.read(headers))
        )
        if self.ticket is not None:
            yield from self.pacer.apply(GATE, Gate, _released(self.ticket))

    def abandon(self) -> None:
        """Cancelled or interrupted mid-request: give the reservations back, without waiting."""
        store = self.pacer.store
        store.apply_soon(bucket_key(self.route), Bucket, _settle(None, 0.0))
        if self.ticket is not None:
            store.apply_soon(GATE, Gate, _released(self.ticket))


class LocalPacer(Pacer):
    """The pacing of one process's clients (``pacing=True``): the same gate and buckets as any
    store's, changed in place under the store's lock — the gate and the bucket together, once
    before a request and once after it — instead of as one operation per state.

    Pacing runs around every call, so this is the hot path; a create that has to wait for a slot
    takes the general path of `Pacer`.
    """

    store: LocalStore

    def __init__(self, store: LocalStore) -> None:
        super().__init__(store)
        self._buckets: dict[str, Bucket] = {}
        """Route → its bucket (a state of the store: the same object for good)."""

    def _bucket(self, route: str) -> Bucket:
        bucket: Bucket = self.store.state(bucket_key(route), Bucket)
        self._buckets[route] = bucket
        return bucket

    def admit(
        self, call: Call[Any], waits: Waits, refused: RateLimitError | None = None
    ) -> Steps[Admission]:
        store = self.store
        route = call.route
        bucket = self._buckets.get(route) or self._bucket(route)
        ticket = None
        held = False
        with store.lock:
            now = store.clock.monotonic()
            if call.creates_generation:
                ticket = f"{LocalStore.owner}:{next(_tickets)}"
                gate: Gate = store.state(GATE, Gate)
                wait, freed = gate.ask(ticket, LocalStore.owner, now)
                if freed:
                    store.signal.fire_locked()
                held = wait is not None
            if not held:
                delay = bucket.reserve(now)
        if held:
            # No slot now: queue and wait like any store's create (the ticket keeps its place).
            assert ticket is not None
            yield from self._enter(ticket, waits, refused)
            with store.lock:
                delay = bucket.reserve(store.clock.monotonic())
        if delay > 0:
            yield from _token_wait(store, delay, route, ticket, waits)
        return _LocalAdmission(self, route, ticket, bucket)


class _LocalAdmission(Admission):
    __slots__ = ("bucket",)

    pacer: LocalPacer

    def __init__(self, pacer: LocalPacer, route: str, ticket: str | None, bucket: Bucket) -> None:
        self.pacer = pacer
        self.route = route
        self.ticket = ticket
        self.bucket = bucket

    def answered(self, response: httpx.Response, result: Any, readable: bool) -> Steps[None]:
        pacer = self.pacer
        store = pacer.store
        bucket = self.bucket
        now = store.clock.monotonic()
        # Decided without the lock: a stale answer only costs or saves one reading.
        skim = bucket.skims(now)
        if not skim:
            read, wall = pacer.read(response.headers)
        gate: Gate | None = store.peek(GATE, Gate)
        # Outside the lock: a model's properties are Python code (`seen` checks again).
        started, finished = _outcome(result, readable, gate)
        with store.lock:
            if skim:
                bucket.spent()
            else:
                bucket.settle(read, now, wall)
            if gate is not None and gate.answered(self.ticket, readable, started, finished, now):
                store.signal.fire_locked()
        return
        yield  # a generator, like every `answered`: nothing to wait for in a process


def _token_wait(
    store: Store, delay: float, route: str, ticket: str | None, waits: Waits
) -> Steps[None]:
    """Wait ``delay`` seconds for a token of ``route``'s bucket, if that fits the call's budget.

    A wait that does not fit is skipped: the request goes, and the server decides. A call
    cancelled while it waits gives back the token and the slot (``ticket``) it holds.
    """
    if delay > 0 and waits.fits(delay):
        waits.log(delay, route, "rate_limit")
        try:
            yield Sleep(delay, "rate_limit", route)
        except BaseException:
            store.apply_soon(bucket_key(route), Bucket, _settle(None, 0.0))
            if ticket is not None:
                store.apply_soon(GATE, Gate, _released(ticket))
            raise
        waits.spent(delay)


def _finished(result: Any, tracked: Mapping[str, Entry]) -> list[str]:
    """The ids of the generations in ``result`` (a row, a page of rows) that are finished and
    in ``tracked``."""
    if _is_generation(result):
        return [result.id] if result.is_terminal and result.id in tracked else []
    return [
        row.id
        for row in getattr(result, "data", None) or ()
        if _is_generation(row) and row.is_terminal and row.id in tracked
    ]


def _hint_sharing(message: str, gate: Gate | None) -> None:
    """Say once that other clients hold the team's slots, when a refusal shows it: this client
    holds fewer generations than the limit its message states."""
    global _sharing_hinted
    found = re.search(_TEAM_LIMIT, message or "")
    if found is None or gate is None:
        return
    held, limit = len(gate.tracked), int(found.group(1))
    if held < limit:
        _sharing_hinted = True
        logger.warning(_SHARING_HINT, held, limit)


def _outcome(result: Any, readable: bool, gate: Gate | None) -> tuple[str | None, list[str]]:
    """What a 2xx answer tells the gate: the generation it started, if still unfinished, and
    the tracked generations it shows finished (looked up in ``gate``, if any)."""
    if not readable:
        return None, []
    if _is_generation(result) and not result.is_terminal:
        return result.id, []
    if gate is None or not gate.tracked:
        return None, []
    return None, _finished(result, gate.tracked)


def _is_generation(value: Any) -> bool:
    # By its shape, not `isinstance`: the model's module loads with the first call that returns
    # one, not with the client (`aurous.types.Generation` is the only model with this property).
    return hasattr(type(value), "is_terminal")


# ---- the operations (pure: a shared store may run one again after a conflict) ----------------------


def _state(state: Any, now: float) -> tuple[Any, bool]:
    return state, False


def _reserve(bucket: Bucket, now: float) -> tuple[float, bool]:
    return bucket.reserve(now), False


def _settle(read: Figures | None, wall: float) -> Op[None]:
    def op(bucket: Bucket, now: float) -> tuple[None, bool]:
        bucket.settle(read, now, wall)
        return None, False

    return op


def _limited(read: Figures | None, wall: float, emptied: bool, retry_after: float) -> Op[None]:
    def op(bucket: Bucket, now: float) -> tuple[None, bool]:
        bucket.settle(read, now, wall)
        if emptied:
            bucket.emptied(now, retry_after)
        return None, False

    return op


def _enter(ticket: str, owner: str) -> Op[float | None]:
    def op(gate: Gate, now: float) -> tuple[float | None, bool]:
        return gate.ask(ticket, owner, now)

    return op


def _renew(owner: str) -> Op[None]:
    def op(gate: Gate, now: float) -> tuple[None, bool]:
        gate.renew(owner, now)
        return None, gate.expire(now)

    return op


def _forget_tickets(owner: str) -> Op[None]:
    def op(gate: Gate, now: float) -> tuple[None, bool]:
        mine = [t for t, (holder, _) in gate.queue.items() if holder == owner]
        for ticket in mine:
            del gate.queue[ticket]
        return None, bool(mine)

    return op


def _force(ticket: str, owner: str) -> Op[None]:
    def op(gate: Gate, now: float) -> tuple[None, bool]:
        gate.force(ticket, owner, now)
        return None, False

    return op


def _leave(ticket: str) -> Op[None]:
    def op(gate: Gate, now: float) -> tuple[None, bool]:
        return None, gate.leave(ticket)

    return op


def _answered(
    ticket: str | None, readable: bool, started: str | None, finished: list[str]
) -> Op[None]:
    def op(gate: Gate, now: float) -> tuple[None, bool]:
        return None, gate.answered(ticket, readable, started, finished, now)

    return op


def _refused(ticket: str, retry_after: float) -> Op[None]:
    def op(gate: Gate, now: float) -> tuple[None, bool]:
        gate.refused(ticket, retry_after, now)
        return None, True

    return op


def _released(ticket: str) -> Op[None]:
    def op(gate: Gate, now: float) -> tuple[None, bool]:
        gate.released(ticket)
        return None, True

    return op


def _seen(generation_ids: list[str]) -> Op[None]:
    def op(gate: Gate, now: float) -> tuple[None, bool]:
        freed = False
        for gid in generation_ids:
            freed = gate.seen(gid, now) or freed
        return None, freed

    return op
