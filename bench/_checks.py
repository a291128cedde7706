"""What ``bench/faults.py`` checks after each phase: the requests' fates against the fault's window, money
posted exactly once, and (once the outbox has settled) webhooks delivered at least once with none lost. Not a
benchmark itself.
"""

from __future__ import annotations

import fnmatch
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from _load import Sample
from _services import EVENTS, World


@dataclass
class Window:
    """When a fault began and ended (wall clock), whether the database was down meanwhile, the seconds to the
    first success after it when the fault measured them (otherwise: the first 2xx write after its end), and a
    note for the report."""

    begin: float
    end: float
    database_down: bool = False
    recovered_after: float | None = None
    note: str = ""


@dataclass
class Request:
    """What the suite needs to know of a request it sent: its kind, Idempotency-Key and amount."""

    kind: str
    key: str | None = None
    amount: Decimal | None = None


@dataclass
class Phase:
    """A fault's phase: when its load began (wall clock), the fault's window, the samples, the checks."""

    name: str
    began: float
    seconds: float
    window: Window
    samples: list[Sample]
    requests: list[Request]
    figures: dict[str, Any] = field(default_factory=dict)


#: seconds after the database is back in which a 503 answered is still the outage's (answered as it ended)
SLACK = 1.0


def answers(phase: Phase) -> dict[str, Any]:
    """The requests' fates: final statuses, every 5xx against the database-down window, the recovery."""
    window, began = phase.window, phase.began
    down = (window.begin - began, window.end - began + SLACK) if window.database_down else None
    final = [s.status for s in phase.samples]
    errors = [a for s in phase.samples for a in s.attempts if a.status is not None and a.status >= 500]
    inside = [a for a in errors if down and down[0] <= a.at <= down[1]]
    latencies = sorted(s.ms for s in phase.samples if s.status is not None and 200 <= s.status < 300)
    recovered = window.recovered_after
    if recovered is None and not phase.name.startswith("celery"):
        after = window.end - began
        writes = [a.at for s in phase.samples if s.kind != "quote" for a in s.attempts
                  if a.status is not None and 200 <= a.status < 300 and a.at >= after]
        recovered = min(writes) - after if writes else None
    return {"sent": len(phase.requests), "answered": sum(1 for status in final if status is not None),
            "final_2xx": sum(1 for status in final if status is not None and 200 <= status < 300),
            "final_4xx": sum(1 for status in final if status is not None and 400 <= status < 500),
            "final_5xx": sum(1 for status in final if status is not None and status >= 500),
            "responses_5xx": len(errors), "outside_window_5xx": len(errors) - len(inside),
            "inside_503_retry_after": all(a.status == 503 and "retry-after" in a.headers for a in inside),
            "lost_connections": sum(1 for s in phase.samples for a in s.attempts if a.status is None),
            "retried": sum(1 for s in phase.samples if len(s.attempts) > 1),
            "p50_ms": round(latencies[len(latencies) // 2]) if latencies else None,
            "p99_ms": round(latencies[int(len(latencies) * 0.99)]) if latencies else None,
            "recovered_s": None if recovered is None else round(recovered, 2), "note": window.note,
            "worst_ms_each_5s": worst_each(phase.samples, 5.0)}


def worst_each(samples: list[Sample], seconds: float) -> str:
    """The worst final latency of the requests due in each ``seconds`` of the phase, in ms."""
    worst: dict[int, float] = {}
    for sample in samples:
        slot = int(sample.due // seconds)
        worst[slot] = max(worst.get(slot, 0.0), sample.ms)
    return " ".join(f"{worst[slot]:.0f}" for slot in sorted(worst))


def money(world: World, phase: Phase) -> dict[str, Any]:
    """Each repayment acknowledged: one servicing event whose entries took exactly its amount in cash; one
    never acknowledged: at most one; the trial balance balanced and the projection equal to the journal."""
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from core.ledger.accounts import cash_clearing
    from core.ledger.projection import compare_projection
    from core.ledger.reports import trial_balance

    query = text("""WITH svc AS (SELECT CAST(split_part(idempotency_key, ':', 2) AS integer) AS event_id, id
                                 FROM ledger_entries WHERE idempotency_key LIKE 'svc:%')
                    SELECT e.request_key, count(DISTINCT e.id),
                           coalesce(sum(p.debit) FILTER (WHERE p.account = :cash), 0)
                    FROM servicing_events e LEFT JOIN svc ON svc.event_id = e.id
                    LEFT JOIN ledger_postings p ON p.entry_id = svc.id
                    WHERE e.request_key LIKE :keys GROUP BY e.request_key""")
    prefix = f"api:{world.client_id}:repayment:"
    with world.engine.connect() as conn:
        posted = {key[len(prefix):]: (events, cash) for key, events, cash in conn.execute(
            query, {"cash": cash_clearing("sandbox_bank"), "keys": f"{prefix}{phase.name}-r%"})}
        session = Session(bind=conn)
        balanced = trial_balance(session).difference == 0 and not compare_projection(session)
    acknowledged = wrong = unacknowledged_posted = 0
    for sample in phase.samples:
        request = phase.requests[sample.n]
        if request.kind != "repayment":
            continue
        events, cash = posted.get(request.key or "", (0, Decimal(0)))
        if sample.status is not None and 200 <= sample.status < 300:
            acknowledged += 1
            wrong += not (events == 1 and cash == request.amount)
        else:
            unacknowledged_posted += events
            wrong += not (events <= 1 and cash in (0, request.amount))
    return {"repayments_2xx": acknowledged, "money_wrong": wrong, "posted_unacknowledged": unacknowledged_posted,
            "books_balanced": balanced,
            "money_once": wrong == 0 and balanced}


def settle_webhooks(world: World, subscription: int, phases: list[Phase], timeout: float = 180) -> None:
    """Wait until every transition the subscription wants has its event and every event was received (the
    outbox settles: Celery beat's dispatch, sent here every 3 s); then each phase's figures, by the time of
    its transitions."""
    from sqlalchemy import text

    wanted_sql = text("""SELECT st.id, st.entity_type || '.' || st.to_state, extract(epoch FROM st.at)
                         FROM state_transitions st
                         LEFT JOIN applications a ON st.entity_type = 'application' AND a.id = st.entity_id
                         LEFT JOIN loans l ON st.entity_type = 'loan' AND l.id = st.entity_id
                         LEFT JOIN applications la ON la.id = l.application_id
                         WHERE coalesce(a.channel, la.channel) = 'bench'""")
    events_sql = text("SELECT transition_id, id FROM webhook_events WHERE subscription_id = :s")
    celery = world.app.extensions["celery"]
    deadline = time.time() + timeout
    while True:
        celery.send_task("loanfactory.api.dispatch_webhooks")
        time.sleep(3)
        with world.engine.connect() as conn:
            wanted = {tid: float(at) for tid, kind, at in conn.execute(wanted_sql)
                      if any(fnmatch.fnmatchcase(kind, pattern) for pattern in EVENTS)}
            events = {tid: eid for tid, eid in conn.execute(events_sql, {"s": subscription})}
        with world.receiver.lock:
            received = dict(world.receiver.first)
        missing = [tid for tid in wanted if tid not in events or events[tid] not in received]
        if not missing or time.time() > deadline:
            break
    starts = [phase.began for phase in phases[1:]] + [float("inf")]
    for phase, until in zip(phases, starts, strict=True):
        mine = [tid for tid, at in wanted.items() if at < until and (phase is phases[0] or at >= phase.began)]
        delivered = [tid for tid in mine if tid in events and events[tid] in received]
        late = [received[events[tid]] - wanted[tid] for tid in delivered]
        phase.figures |= {"webhook_events": len(mine), "webhooks_delivered": len(delivered),
                          "webhooks_lost": len(mine) - len(delivered),
                          "latest_delivery_s": round(max(late), 1) if late else None}
