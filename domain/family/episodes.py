"""Episodes (opening, level of need, closure), the lead professional and the Team Around the Family."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain import checklists
from domain.canonical import added
from domain.errors import InvalidValueError, RuleViolationError, UnknownEntityError
from domain.family.base import require_text
from domain.family.members import Members
from domain.state import EpisodeState, MemberState
from domain.values import ClosureReason, EpisodeKind, Housing, Meta, RequestKind, RequestStatus, Role

if TYPE_CHECKING:
    from domain.family import Family


class EpisodesAndLeads(Members):
    """The commands about episodes, the lead and the team, and their events."""

    def open_new_episode(
        self,
        meta: Meta,
        episode_id: UUID,
        level: int,
        kind: EpisodeKind | None = None,
        address: str | None = None,
        housing: Housing | None = None,
        from_description: str | None = None,
    ) -> None:
        """Open an episode; on a family with a closed episode it is a reopening.

        `kind` may say the episode came by step-down from children's social care or by transfer
        in from another area, with `from_description` saying from where (required then).
        For a family recorded as having left the area, its return is recorded first (at the
        given address and housing, else the last known ones).
        """
        if self.open_episode is not None:
            raise RuleViolationError("the family already has an open episode", rule="one_open_episode")
        _check_level(level)
        if address is not None:
            address = require_text(address, "address", "address_required")
        previous = self.episodes[-1].episode_id if self.episodes else None
        kind = episode_kind(kind, previous is not None)
        if kind in ARRIVING_KINDS:
            from_description = require_text(from_description or "", "from_description", "from_description_required")
        elif from_description is not None and not from_description.strip():
            from_description = None
        if not self.in_area:
            self._returned(
                meta=meta,
                address=address if address is not None else self.address,
                housing=housing if housing is not None else self.housing,
            )
        self._episode_opened(
            meta=meta,
            episode_id=episode_id,
            level=level,
            kind=kind,
            previous_episode_id=previous,
            from_description=from_description.strip() if from_description else None,
        )

    class EpisodeOpened(Aggregate.Event):
        """An episode opened; `from_description` (where an arriving episode came from) was added later."""

        meta: Meta
        episode_id: UUID
        level: int
        kind: EpisodeKind
        previous_episode_id: UUID | None
        from_description: str | None = added(None)

    @event(EpisodeOpened)
    def _episode_opened(
        self,
        meta: Meta,
        episode_id: UUID,
        level: int,
        kind: EpisodeKind,
        previous_episode_id: UUID | None,
        from_description: str | None = None,
    ) -> None:
        self.episodes.append(
            EpisodeState(
                episode_id=episode_id,
                level=level,
                kind=kind,
                opened_on=meta.occurred_on,
                opened_version=self.next_version,
                previous_episode_id=previous_episode_id,
                from_description=from_description,
            )
        )

    def change_level(self, meta: Meta, episode_id: UUID, level: int, reason: str) -> None:
        """Step the level of need up or down."""
        episode = self._require_open_episode()
        if episode.episode_id != episode_id:
            raise UnknownEntityError(f"no open episode {episode_id}", field="episode_id")
        _check_level(level)
        require_text(reason, "reason", "reason_required")
        self._level_changed(meta=meta, episode_id=episode_id, level=level, reason=reason)

    @event("LevelOfNeedChanged")
    def _level_changed(self, meta: Meta, episode_id: UUID, level: int, reason: str) -> None:
        self.episodes[-1].level = level

    def close_episode(self, meta: Meta, request_id: UUID) -> None:
        """Close the episode for a closure request; refused while any step is missing."""
        request = self._pending(request_id, RequestKind.CLOSURE)
        missing = [
            s.step for s in checklists.closure_steps(cast("Family", self), request, meta.occurred_on) if not s.done
        ]
        if missing:
            raise RuleViolationError(f"handover steps missing: {', '.join(missing)}", rule="handover_steps_missing")
        episode = self._require_open_episode()
        self._episode_closed(meta=meta, episode_id=episode.episode_id, request_id=request_id)

    @event("EpisodeClosed")
    def _episode_closed(self, meta: Meta, episode_id: UUID, request_id: UUID) -> None:
        episode = self.episodes[-1]
        request = self.requests[str(request_id)]
        episode.closed_on = meta.occurred_on
        episode.closed_version = self.next_version
        episode.close_reason = ClosureReason(request.reason)
        request.status = RequestStatus.COMPLETED
        request.ended_version = self.next_version
        request.missing_steps = []
        self.lead = None
        self.members = {}
        self.plan = None
        other = self.pending_request(RequestKind.TRANSFER)
        if other is not None:
            other.status = RequestStatus.WITHDRAWN
            other.ended_version = self.next_version

    def assign_lead(self, meta: Meta, professional_id: UUID, agency_id: UUID, agreed_with_family: bool) -> None:
        """Assign the first lead professional of an open episode."""
        self._require_open_episode()
        if self.lead is not None:
            raise RuleViolationError(
                "the family already has a lead professional; use a transfer",
                rule="lead_already_assigned",
            )
        self._lead_assigned(
            meta=meta,
            professional_id=professional_id,
            agency_id=agency_id,
            agreed_with_family=agreed_with_family,
        )

    @event("LeadProfessionalAssigned")
    def _lead_assigned(self, meta: Meta, professional_id: UUID, agency_id: UUID, agreed_with_family: bool) -> None:
        self._set_lead(professional_id, agency_id, meta.occurred_on)

    def team_agency_ids(self) -> set[UUID]:
        """The agencies of the lead and the TAF members."""
        agencies = {m.agency_id for m in self.members.values()}
        if self.lead is not None:
            agencies.add(self.lead.agency_id)
        return agencies

    def join_team(self, meta: Meta, professional_id: UUID, agency_id: UUID) -> None:
        """Add a professional to the Team Around the Family.

        Joining opens the whole record to them (need-to-know), so bringing in an agency not yet
        in the team needs a consent or a recorded sharing decision that covers it, unless a
        coordinator decides it.
        """
        self._require_open_episode()
        if str(professional_id) in self.members:
            raise RuleViolationError("already a TAF member", rule="already_taf_member")
        if (
            agency_id not in self.team_agency_ids()
            and meta.actor_role is not Role.COORDINATOR
            and not self.sharing_covers(agency_id)
        ):
            raise RuleViolationError(
                "their agency is not yet in the team: record consent or a sharing decision that covers it, "
                "or ask a coordinator to add them",
                rule="sharing_decision_required",
                field="professional_id",
            )
        self._member_joined(meta=meta, professional_id=professional_id, agency_id=agency_id)

    @event("TafMemberJoined")
    def _member_joined(self, meta: Meta, professional_id: UUID, agency_id: UUID) -> None:
        self.members[str(professional_id)] = MemberState(
            professional_id=professional_id, agency_id=agency_id, since=meta.occurred_on, version=self.next_version
        )

    def leave_team(self, meta: Meta, professional_id: UUID) -> None:
        """Remove a professional from the team; the lead leaves only through a transfer."""
        if str(professional_id) not in self.members:
            raise UnknownEntityError("not a TAF member of this family", field="professional_id")
        if self.lead is not None and self.lead.professional_id == professional_id:
            raise RuleViolationError("the lead leaves only through a transfer", rule="lead_cannot_leave")
        owned = [a for a in self.open_actions() if a.owner_id == professional_id]
        if owned:
            raise RuleViolationError(
                f"reassign this member's {len(owned)} open action(s) before they leave",
                rule="member_owns_open_actions",
            )
        self._member_left(meta=meta, professional_id=professional_id)

    @event("TafMemberLeft")
    def _member_left(self, meta: Meta, professional_id: UUID) -> None:
        self.members.pop(str(professional_id), None)


# episodes that arrive from elsewhere: they say where from
ARRIVING_KINDS = frozenset({EpisodeKind.STEPPED_DOWN, EpisodeKind.TRANSFERRED_IN})


def episode_kind(asked: EpisodeKind | None, has_history: bool) -> EpisodeKind:
    """The kind of a new episode: as asked, else by history (new, or reopened after an earlier one).

    `new` and `reopened` are the family's history, not a choice: asking for `new` on a family with
    an earlier episode (or `reopened` on one without) is refused, so no reopening hides what came before.
    """
    by_history = EpisodeKind.REOPENED if has_history else EpisodeKind.NEW
    if asked is None:
        return by_history
    if asked in (EpisodeKind.NEW, EpisodeKind.REOPENED) and asked is not by_history:
        raise InvalidValueError(
            f"this family {'has' if has_history else 'has no'} earlier episode, so the episode is "
            f"{by_history.value}, not {asked.value}",
            rule="episode_kind_by_history",
            field="kind",
        )
    return asked


def _check_level(level: int) -> None:
    if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 4:
        raise InvalidValueError("level of need must be 1 to 4", rule="level_range", field="level")
