"""Budgets: a cap on what the billable creates made through a client copy may spend.

``client.with_options(budget=aurous.Budget(max_credits=50))`` gives a copy whose image and video
creates (``create``, ``create_and_wait``, batch items) are counted against the cap. The flow
(`aurous._flow`) hands every call of a client that has used a budget to `Spending.call`, which
does, around the attempts of a create:

1. **Reserve.** Before the first attempt the create is priced (`PriceBook`: the rate card, read
   once per client and checked once against the estimate endpoint, as batches do) and a *hold*
   of that price is reserved against the cap, atomically with every other reservation: a lock
   in the process, a compare-and-set in a shared store. A reservation that would take what is
   spent and held past the cap raises `BudgetExceededError`, and nothing is sent.
2. **Answered.** The hold moves to the generation's id and counts at least what the API says it
   holds (its ``cost``), never less than the estimate.
3. **Refused.** A 4xx (a 429 not waited out included), or a request that never left: nothing
   can have been billed, the hold is released.
4. **Outcome unknown.** The connection broke after the request was sent, a 5xx after the
   retries, an answer that could not be read, a ``409`` key in use, a call cancelled in flight:
   the generation may exist. The hold stays, under the create's idempotency key, and counts. A
   later create with the same key (the SDK's own retries, a batch resumed on its manifest, a
   caller replaying the key) finds it and carries on from step 2. A budget therefore may count a
   create that never happened, and never misses one that did.
5. **Settled.** When any call of the client (or of its copies) returns a generation that has
   ended (retrieve, wait, list, ``create_and_wait``, batch items), its hold settles: to its
   ``cost`` — the amount charged — or to 0 when nothing was charged (failed, cancelled,
   moderation rejected, expired: the API released the hold). `Budget.settle` does the same for
   a generation learned of elsewhere (a webhook).

A budget's books live in a *state* applied to by pure operations (`aurous._store`): in the
`Budget` itself when it has no name; under ``budget:<name>`` in a store of the process (`_NAMED`)
when it has one, so every `Budget` object of that name in the process counts together; and,
for a named budget on a client whose pacing uses a shared store, under ``budget:<name>`` in that
store, so every process of a fleet using the name shares one budget. The books keep the totals,
the open holds and the last `MAX_SETTLED` settled entries (plus the totals per tag of all of
them), so their size stays bounded however many generations a budget sees.
"""

from __future__ import annotations

import dataclasses
import decimal
import math
import threading
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar, overload

import httpx

from ._clock import SYSTEM_CLOCK
from ._errors import (
    APIConnectionError,
    APIResponseValidationError,
    AurousError,
    BudgetExceededError,
    IdempotencyKeyInUseError,
    RateLimitError,
    ServerError,
)
from ._steps import Exchange, Shared, Step, Steps, relay
from ._store import LocalStore, Op, Store

if TYPE_CHECKING:
    from ._batch._pricing import PriceBook
    from ._call import Call
    from ._flow import Flow

__all__ = ["MAX_SETTLED", "Budget", "BudgetEntry", "BudgetState", "Spending", "check_tags"]

T = TypeVar("T")

MAX_SETTLED = 100
"""Settled entries a budget's books keep (the latest); older ones survive only in the totals.

The books travel whole on every operation of a shared store (one JSON document per budget), so
they must stay small: 100 entries is about 15 KB."""

_EXACT = decimal.Context(prec=60, traps=[decimal.InvalidOperation])
"""Sums of credit amounts, independent of the caller's decimal context (which may round)."""
_ZERO = Decimal(0)
_UNKNOWN_FATE = (
    APIConnectionError,
    ServerError,
    IdempotencyKeyInUseError,
    APIResponseValidationError,
)
"""Failures after which a create may have made a generation (the batch's `fate_unknown`)."""
_CREATE_MEDIA = {"POST /v1/images": "image", "POST /v1/videos": "video"}
_NEVER_CONNECTED = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Failures of a request that never left this machine (the transport's ``_never_sent``)."""
_NAMED: Store = LocalStore(SYSTEM_CLOCK)
"""The books of the named budgets of this process that no shared store holds: a name is one
budget in the process, however many `Budget` objects carry it (one per web request, say). They
last as long as the process; a name per period (``user:42:2026-05-15``) keeps them few."""


def _decimal(value: float | int | Decimal | str) -> Decimal:
    if isinstance(value, Decimal):
        return value
    return Decimal(value if isinstance(value, str) else repr(value))


def _number(value: Decimal) -> float:
    return float(value)


def _text(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def check_tags(tags: Any) -> dict[str, str]:
    """``tags`` (a mapping of str to str) as a plain dict, or TypeError/ValueError."""
    if not isinstance(tags, Mapping):
        raise TypeError(f"tags must be a mapping of str to str, not {type(tags).__name__}")
    checked: dict[str, str] = {}
    for key, value in tags.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(
                f"tags must map str to str, got {type(key).__name__} → {type(value).__name__} "
                f"({key!r:.40}: {value!r:.40})"
            )
        if not key:
            raise ValueError("tags cannot have an empty key")
        checked[key] = value
    return checked


# ---- the books ----------------------------------------------------------------------------------


class BudgetState:
    """One budget's books, as plain data for a store: what was charged, what is held and for
    which create, the latest settled entries and the charges per tag."""

    __slots__ = ("holds", "ids", "settled", "spent", "tag_spent")

    def __init__(self) -> None:
        self.spent = _ZERO
        self.holds: dict[str, dict[str, Any]] = {}
        """Idempotency key of a create → ``{"id", "held", "tags"}`` (``id``: its generation,
        ``None`` until the create is answered)."""
        self.ids: dict[str, str] = {}
        """Generation id → the idempotency key its hold is under."""
        self.settled: list[dict[str, Any]] = []
        self.tag_spent: dict[str, dict[str, Decimal]] = {}
        """Tag key → tag value → credits charged to creates with that tag."""

    @property
    def held(self) -> Decimal:
        total = _ZERO
        for hold in self.holds.values():
            total = _EXACT.add(total, hold["held"])
        return total

    @property
    def used(self) -> Decimal:
        return _EXACT.add(self.spent, self.held)

    # ---- operations' building blocks ------------------------------------------------------------
    def reserve(
        self, key: str, amount: Decimal, cap: Decimal, tags: Mapping[str, str]
    ) -> tuple[bool, Decimal]:
        """Hold ``amount`` for the create sent with ``key`` if that keeps within ``cap``;
        (done, what was spent or held before)."""
        used = self.used
        if key in self.holds or self._settled_key(key):
            # The same create again (a replay of its key): one generation, counted once.
            return True, used
        if _EXACT.add(used, amount) > cap:
            return False, used
        self.holds[key] = {"id": None, "held": amount, "tags": dict(tags)}
        return True, used

    def record(self, key: str, generation_id: str, held: Decimal, tags: Mapping[str, str]) -> None:
        """The create sent with ``key`` made ``generation_id``, which holds ``held``."""
        hold = self.holds.get(key)
        if hold is None:
            if self._settled_key(key):
                return  # a replay of a create whose generation was counted and settled
            # Released meanwhile (a refusal seen by another process, say): it counts again.
            hold = self.holds[key] = {"id": None, "held": held, "tags": dict(tags)}
        hold["id"] = generation_id
        hold["held"] = max(hold["held"], held)
        self.ids[generation_id] = key

    def _settled_key(self, key: str) -> bool:
        # Only the latest settled entries are kept: replaying an older key counts it again,
        # which errs on the side of the cap.
        return any(entry["key"] == key and entry["id"] is not None for entry in self.settled)

    def settle(self, generation_id: str, charged: Decimal | None) -> bool:
        """``generation_id`` ended, charging ``charged`` (None: what it held)."""
        key = self.ids.pop(generation_id, None)
        if key is None:
            return False
        hold = self.holds.pop(key, None)
        if hold is None:
            return False
        self._close(key, hold, hold["held"] if charged is None else charged)
        return True

    def release(self, key: str) -> bool:
        """The create sent with ``key`` made nothing: its hold goes."""
        hold = self.holds.pop(key, None)
        if hold is None:
            return False
        if hold["id"] is not None:
            self.ids.pop(hold["id"], None)
        self._close(key, hold, _ZERO)
        return True

    def _close(self, key: str, hold: dict[str, Any], charged: Decimal) -> None:
        self.spent = _EXACT.add(self.spent, charged)
        for name, value in hold["tags"].items():
            per_value = self.tag_spent.setdefault(name, {})
            per_value[value] = _EXACT.add(per_value.get(value, _ZERO), charged)
        self.settled.append({**hold, "key": key, "charged": charged})
        if len(self.settled) > MAX_SETTLED:
            del self.settled[: len(self.settled) - MAX_SETTLED]

    # ---- as plain data --------------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        return {
            "spent": str(self.spent),
            "holds": {k: {**h, "held": str(h["held"])} for k, h in self.holds.items()},
            "ids": dict(self.ids),
            "settled": [
                {**e, "held": str(e["held"]), "charged": str(e["charged"])} for e in self.settled
            ],
            "tag_spent": {
                name: {value: str(amount) for value, amount in values.items()}
                for name, values in self.tag_spent.items()
            },
        }

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> BudgetState:
        state = cls()
        state.spent = Decimal(str(data.get("spent", "0")))
        state.holds = {
            str(k): {"id": h.get("id"), "held": Decimal(str(h["held"])), "tags": dict(h["tags"])}
            for k, h in data.get("holds", {}).items()
        }
        state.ids = {str(k): str(v) for k, v in data.get("ids", {}).items()}
        state.settled = [
            {
                "id": e.get("id"),
                "key": e["key"],
                "held": Decimal(str(e["held"])),
                "charged": Decimal(str(e["charged"])),
                "tags": dict(e["tags"]),
            }
            for e in data.get("settled", ())
        ]
        state.tag_spent = {
            str(name): {str(v): Decimal(str(a)) for v, a in values.items()}
            for name, values in data.get("tag_spent", {}).items()
        }
        return state


# ---- the operations (pure: a shared store may run one again after a conflict) -------------------


def _reserve(
    key: str, amount: Decimal, cap: Decimal, tags: Mapping[str, str]
) -> Op[tuple[bool, Decimal]]:
    def op(state: BudgetState, now: float) -> tuple[tuple[bool, Decimal], bool]:
        return state.reserve(key, amount, cap, tags), False

    return op


def _record(
    key: str, generation_id: str, held: Decimal, tags: Mapping[str, str], charged: Any
) -> Op[None]:
    """Record the create's generation; ``charged`` (a Decimal, or None for "what it holds")
    settles it at once when it had already ended, or pass `_OPEN`."""

    def op(state: BudgetState, now: float) -> tuple[None, bool]:
        state.record(key, generation_id, held, tags)
        if charged is not _OPEN:
            state.settle(generation_id, charged)
        return None, False

    return op


_OPEN = object()


def _settle(generation_id: str, charged: Decimal | None) -> Op[bool]:
    def op(state: BudgetState, now: float) -> tuple[bool, bool]:
        return state.settle(generation_id, charged), False

    return op


def _release(key: str) -> Op[bool]:
    def op(state: BudgetState, now: float) -> tuple[bool, bool]:
        return state.release(key), False

    return op


def _snapshot(state: BudgetState, now: float) -> tuple[dict[str, Any], bool]:
    return state.dump(), False


# ---- what a generation says ---------------------------------------------------------------------


def _is_generation(value: Any) -> bool:
    # By its shape, as the pacer does: the model's module loads with the first answer read.
    return hasattr(type(value), "is_terminal")


def _cost(generation: Any) -> Decimal | None:
    cost = generation.cost
    return None if cost is None else _decimal(cost.amount)


def _made_nothing(error: AurousError, reached: int) -> bool:
    """Whether a create that failed with ``error``, after ``reached`` of its requests may have
    reached the server, certainly made no generation."""
    if reached == 0:
        return True  # every attempt failed to connect: the server saw none
    if isinstance(error, _UNKNOWN_FATE):
        return False
    if isinstance(error, RateLimitError):
        # A 429 answers before the key is looked at: an earlier attempt (a 5xx after the
        # server committed) may have made the generation this one was refused for.
        return reached <= 1
    # Any other refusal (400, 402, 404…) is what every attempt with this key got: the server
    # replays a committed create's answer instead of refusing it.
    return True


class _Reached:
    """Counts the requests of a call that may have reached the server: answered, or failed
    any other way than a connection never made."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0

    def watch(self, step: Step) -> Steps[Any]:
        if type(step) is not Exchange:
            return (yield step)
        try:
            value = yield step
        except _NEVER_CONNECTED:
            raise
        except BaseException:
            self.count += 1  # a read that broke, a cancellation in flight: it may have arrived
            raise
        self.count += 1
        return value


def _charged(generation: Any) -> Decimal | None:
    """What an ended generation charged: its ``cost`` (0 unless it succeeded); None when it
    does not say (a succeeded row without one is taken to have charged what it held)."""
    cost = _cost(generation)
    if cost is not None:
        return cost
    return None if generation.is_succeeded else _ZERO


# ---- the public object --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BudgetEntry:
    """One create counted by a `Budget`: its hold and, once it ended, its charge."""

    generation_id: str | None
    """The generation made, or ``None`` while the create's outcome is unknown (see the guide)."""
    idempotency_key: str
    """The create's ``Idempotency-Key``: replaying it resolves an unknown outcome."""
    held: float
    """Credits held for it: its estimated price, or what the API holds if that is more."""
    charged: float | None
    """Credits charged once it ended (``0``: nothing was, the hold was released); ``None``
    while it is open."""
    tags: Mapping[str, str]
    """The tags of the client copy that sent the create (``with_options(tags=…)``)."""

    @property
    def open(self) -> bool:
        """Whether the hold still counts (the generation has not been seen ending)."""
        return self.charged is None


class Budget:
    """A cap on credits: every billable create made through a client copy with this budget
    (``client.with_options(budget=b)``) reserves its estimated price first, and raises
    `aurous.BudgetExceededError`, sending nothing, when that would take what is spent and held
    past ``max_credits``.

    A hold settles to the amount charged when its generation is seen ending (any call of the
    client: retrieve, wait, list, ``create_and_wait``, batches), or is released when nothing was
    charged (failed, cancelled, moderation rejected, expired). Racing threads and tasks never
    overshoot the cap.

    A ``name`` makes the budget one budget for everything using the name: every `Budget` object
    of that name in the process and — on a client whose pacing uses a shared store
    (``pacing="redis://…"`` or ``"file:///…"``) — every process of the fleet (its books are under
    ``budget:<name>`` in the store, per team). Without a shared store a named budget counts for
    this process only. Reading a shared budget (``spent``, ``held``, ``remaining``,
    ``entries``, ``by_tag()``) asks the store, blocking.

    >>> budget = aurous.Budget(max_credits=50, name="user:42:2026-05-15")
    >>> mine = client.with_options(budget=budget, tags={"user": "42"})
    >>> mine.images.create_and_wait(prompt="a lighthouse")
    >>> budget.spent, budget.remaining

    Args:
        max_credits: The cap, in credits (a finite number ``>= 0``).
        name: Makes it one budget for every user of the name: every ``Budget`` of that name in
            the process, and every process sharing the client's pacing store.
    """

    def __init__(self, max_credits: float | Decimal, name: str | None = None) -> None:
        if isinstance(max_credits, bool) or not isinstance(max_credits, (int, float, Decimal)):
            raise TypeError(f"max_credits must be a number, not {type(max_credits).__name__}")
        cap = _decimal(max_credits)
        if not cap.is_finite() or cap < 0:
            raise ValueError(f"max_credits must be a finite number >= 0, got {max_credits!r}")
        if name is not None:
            if not isinstance(name, str):
                raise TypeError(f"name must be a str, not {type(name).__name__}")
            if not name.strip():
                raise ValueError("name must not be empty (leave it out for a budget of its own)")
        self._cap = cap
        self._name = name
        self._key = f"budget:{name}" if name is not None else "budget"
        self._store: Store = _NAMED if name is not None else LocalStore(SYSTEM_CLOCK)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        where = "shared" if self._store.shared else "in this process"
        name = "" if self._name is None else f" name={self._name!r}"
        return f"<Budget{name} max_credits={_text(self._cap)} ({where})>"

    # ---- where the books are --------------------------------------------------------------------
    def _bind(self, store: Store | None) -> None:
        """Keep the books of a named budget in ``store`` (a client's pacing store) if it is
        shared; they stay in this process otherwise. Called when a client copy takes the
        budget; once in a shared store, they stay there."""
        if self._name is None or store is None or not store.shared:
            return
        with self._lock:
            if self._store is store:
                return
            if self._store.shared:
                raise ValueError(
                    f"budget {self._name!r} already keeps its books in {self._store!r}; a budget "
                    f"cannot move to {store!r} (use one Budget object per store)"
                )
            self._store = store

    @property
    def shared(self) -> bool:
        """Whether the books are in a shared store (one budget for every process using the
        name), rather than in this process."""
        return self._store.shared

    def _apply(self, op: Op[T]) -> Steps[T]:
        """``op`` on the books: inline in a process, a `Shared` step otherwise."""
        store = self._store
        if not store.shared:
            return store.apply(self._key, BudgetState, op)
        result: T = yield Shared(store, self._key, BudgetState, op)
        return result

    def _read(self) -> BudgetState:
        return BudgetState.load(self._store.apply(self._key, BudgetState, _snapshot))

    # ---- what it says ---------------------------------------------------------------------------
    @property
    def name(self) -> str | None:
        """The name that makes the budget one for every user of it, or ``None``."""
        return self._name

    @property
    def max_credits(self) -> float:
        """The cap, in credits."""
        return _number(self._cap)

    @property
    def spent(self) -> float:
        """Credits charged for the generations that ended."""
        return _number(self._read().spent)

    @property
    def held(self) -> float:
        """Credits held for creates not seen ending yet (their outcome unknown included)."""
        return _number(self._read().held)

    @property
    def remaining(self) -> float:
        """What a create may still reserve: ``max_credits − spent − held``, at least 0."""
        left = _EXACT.subtract(self._cap, self._read().used)
        return _number(max(left, _ZERO))

    @property
    def entries(self) -> list[BudgetEntry]:
        """The latest settled creates (at most `MAX_SETTLED`, oldest first), then the open ones."""
        state = self._read()
        found = [
            BudgetEntry(e["id"], e["key"], _number(e["held"]), _number(e["charged"]), e["tags"])
            for e in state.settled
        ]
        found += [
            BudgetEntry(h["id"], key, _number(h["held"]), None, h["tags"])
            for key, h in state.holds.items()
        ]
        return found

    @overload
    def by_tag(self, key: str) -> dict[str, float]: ...

    @overload
    def by_tag(self, key: None = None) -> dict[str, dict[str, float]]: ...

    def by_tag(self, key: str | None = None) -> dict[str, Any]:
        """Credits charged or held per tag: ``by_tag("user")`` → ``{"42": 12.0, "7": 3.0}``;
        without a key, the same for every tag key: ``{"user": {"42": 12.0, …}, …}``.

        Charges are summed over every entry the budget ever settled (not only the latest);
        creates sent without the tag are not counted under it.
        """
        state = self._read()
        totals: dict[str, dict[str, Decimal]] = {
            name: dict(values) for name, values in state.tag_spent.items()
        }
        for hold in state.holds.values():
            for name, value in hold["tags"].items():
                per_value = totals.setdefault(name, {})
                per_value[value] = _EXACT.add(per_value.get(value, _ZERO), hold["held"])
        floats = {
            name: {value: _number(amount) for value, amount in values.items()}
            for name, values in totals.items()
        }
        if key is None:
            return floats
        return floats.get(key, {})

    def settle(self, generation: Any) -> bool:
        """Settle the hold of ``generation`` (an `aurous.Generation` that has ended) if this
        budget holds one: to its charged ``cost``, or 0. For generations learned of outside the
        client's calls, e.g. from a webhook. Returns whether a hold was settled; blocks on a
        shared store."""
        if not _is_generation(generation):
            raise TypeError(f"settle() takes an aurous.Generation, not {type(generation).__name__}")
        if not generation.is_terminal:
            return False
        result: bool = self._store.apply(
            self._key, BudgetState, _settle(generation.id, _charged(generation))
        )
        return result

    # ---- what the flow asks ---------------------------------------------------------------------
    def _refusal(self, call: Call[Any], price: Decimal, used: Decimal) -> BudgetExceededError:
        which = "the budget" if self._name is None else f"budget {self._name!r}"
        return BudgetExceededError(
            f"{call.route} was not sent: its estimated price ({_text(price)} credits) would take "
            f"{which} past max_credits={_text(self._cap)} ({_text(used)} credits already "
            "spent or held)",
            max_credits=_number(self._cap),
            spent=_number(used),
            cost=_number(price),
            name=self._name,
        )

    def _unavailable(self, call: Call[Any], price: Decimal) -> BudgetExceededError:
        return BudgetExceededError(
            f"{call.route} was not sent: budget {self._name!r} cannot be checked while its store "
            f"{self._store!r} is unavailable (a budget shared by a fleet never counts on its own)",
            max_credits=_number(self._cap),
            spent=math.nan,
            cost=_number(price),
            name=self._name,
        )


# ---- a client's part ----------------------------------------------------------------------------


class Spending:
    """What a client and its ``with_options`` copies share for budgets: the price books (the
    rate card, read once) and the generations whose holds this process keeps, by id (so that a
    generation seen ending settles with one dict lookup)."""

    __slots__ = ("active", "books", "open")

    def __init__(self) -> None:
        self.active = False
        """True once a copy of the client has a budget: from then on every call of the client
        is looked at for ended generations (before that, the flow checks only this)."""
        self.books: dict[str, PriceBook] = {}
        self.open: dict[str, Budget] = {}

    def call(self, flow: Flow, call: Call[T]) -> Steps[T]:
        """``call`` through ``flow``, counted by the flow's budget if it is a create; the holds
        of the generations its result shows ended are settled."""
        budget = flow.budget
        if budget is None or not call.creates_generation:
            result = yield from flow.send(call)
        else:
            result = yield from self._counted(flow, budget, call)
        if self.open:
            yield from self.seen(result)
        return result

    def _counted(self, flow: Flow, budget: Budget, call: Call[T]) -> Steps[T]:
        key = call.idempotency_key
        assert key is not None  # creates are idempotent: the flow fixed the key
        price = yield from self._price(flow, call)
        tags = flow.tags
        done, used = yield from budget._apply(_reserve(key, price, budget._cap, tags))
        store = budget._store
        if store.shared and not getattr(store, "available", True):
            # The operation ran on the store's in-process fallback: the fleet's books are out of
            # reach, and counting alone could let every process spend the whole cap.
            yield from budget._apply(_release(key))
            raise budget._unavailable(call, price)
        if not done:
            raise budget._refusal(call, price, used)
        reached = _Reached()
        try:
            result = yield from relay(flow.send(call), reached.watch)
        except AurousError as error:
            if _made_nothing(error, reached.count):
                yield from budget._apply(_release(key))
            raise
        except BaseException:
            if reached.count == 0:
                # Cancelled before anything could reach the server (a pacing wait): give the
                # hold back now, without waiting (a cancellation must not wait on a store).
                budget._store.apply_soon(budget._key, BudgetState, _release(key))
            raise
        if _is_generation(result):
            generation: Any = result
            held = max(price, _cost(generation) or _ZERO)
            ended = _charged(generation) if generation.is_terminal else _OPEN
            yield from budget._apply(_record(key, generation.id, held, tags, ended))
            if ended is _OPEN:
                self.open[generation.id] = budget
        return result

    def _price(self, flow: Flow, call: Call[Any]) -> Steps[Decimal]:
        # Deferred (a leaf at the level of the call builders, whose module lives with the
        # batch): pricing loads with the first budgeted create, not with every client.
        from ._batch._pricing import PriceBook, amount_of

        media = _CREATE_MEDIA.get(call.route)
        if media is None:
            # A billable route this SDK cannot price: a budget must not let it through unseen.
            raise AurousError(f"{call.route} was not sent: a budget cannot price it")
        book = self.books.get(media)
        if book is None:
            book = self.books.setdefault(media, PriceBook(media))  # type: ignore[arg-type]
        request = dict(call.json or {})
        extra = call.options.get("extra_body")
        if extra:
            request["extra_body"] = extra
        estimate = book.known(request)
        if estimate is None:
            estimate = yield from flow.wrap(book.steps(request))
        return amount_of(estimate)

    def seen(self, result: Any) -> Steps[None]:
        """Settle the holds of the ended generations ``result`` shows (a row, a page of rows)."""
        if _is_generation(result):
            rows = [result]
        else:
            data = getattr(result, "data", None)
            rows = [row for row in data if _is_generation(row)] if isinstance(data, list) else []
        open_ = self.open
        for row in rows:
            if not row.is_terminal or row.id not in open_:
                continue
            budget = open_.pop(row.id, None)
            if budget is not None:
                yield from budget._apply(_settle(row.id, _charged(row)))
