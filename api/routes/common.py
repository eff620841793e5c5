"""Small helpers shared by the family routers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Response

from api.deps import CurrentActor, ExpectedVersion, FactWritableFamily, IdempotencyKey, Ledger, WritableFamily
from api.schemas.requests import Fact
from api.schemas.responses import WriteResult
from domain.application import Recorded, TafLedger, When
from domain.family import Family
from domain.values import Actor


def etag(version: int) -> str:
    """The ETag of a family version."""
    return f'"{version}"'


def written(response: Response, recorded: Recorded) -> WriteResult:
    """The write answer for what a command recorded, with the family's new version as ETag."""
    response.headers["ETag"] = etag(recorded.version)
    return WriteResult(
        id=recorded.id, family_id=recorded.family_id, version=recorded.version, position=recorded.position
    )


def when(body: Fact, specific: date | None = None) -> When:
    """When the fact happened: a specific date field wins over `occurred_on`."""
    return body.when(specific)


@dataclass
class Writing:
    """Everything a family write route needs: the family (in scope), the actor, the ledger, If-Match."""

    family: Family
    actor: Actor
    ledger: TafLedger
    expected: int | None
    response: Response

    @property
    def family_id(self) -> UUID:
        """The family being written to."""
        return self.family.id

    def done(self, recorded: Recorded) -> WriteResult:
        """The write answer for what was recorded."""
        return written(self.response, recorded)


def writing(
    family: WritableFamily,
    actor: CurrentActor,
    ledger: Ledger,
    expected: ExpectedVersion,
    response: Response,
    _key: IdempotencyKey,
) -> Writing:
    """Dependency: a write to a family the caller may record for."""
    return Writing(family, actor, ledger, expected, response)


Write = Annotated[Writing, Depends(writing)]


def fact_writing(
    family: FactWritableFamily,
    actor: CurrentActor,
    ledger: Ledger,
    expected: ExpectedVersion,
    response: Response,
    _key: IdempotencyKey,
) -> Writing:
    """Dependency: a fact (contact, concern, referral, registration, growth) for a family the caller knows."""
    return Writing(family, actor, ledger, expected, response)


FactWrite = Annotated[Writing, Depends(fact_writing)]
