"""An example of every request body, shown in the OpenAPI document beside its schema.

Ids are placeholders: a caller puts the ids its own requests returned. Dates are in the past, as
facts' dates must be; due dates are within the five years ahead a due date may be.
"""

from __future__ import annotations

from typing import Any

AGENCY = "6f1c2b9a-3d4e-4f5a-8b6c-7d8e9f0a1b2c"
PROFESSIONAL = "0a4f7c1e-5b2d-4c8e-9f3a-6b1d2e3f4a5b"
CHILD = "9b2e4d6f-8a1c-4e3b-b5d7-c9e1f3a5b7d9"
REQUEST = "5c7e9a1b-3d5f-4b7d-9e1f-a3c5e7b9d1f3"
ASSESSMENT = "2d4f6b8d-0f2b-4d6f-8b0d-2f4b6d8f0b2d"

REQUEST_EXAMPLES: dict[str, dict[str, Any]] = {
    "AgencyCreate": {"name": "Ashby Children's Centre", "kind": "childrens_centre"},
    "ProfessionalCreate": {
        "name": "Sam Patel",
        "agency_id": AGENCY,
        "role": "practitioner",
        "email": "sam.patel@example.org",
        "is_system": False,
    },
    "ApiKeyCreate": {"professional_id": PROFESSIONAL},
    "PasswordSet": {"password": "correct horse battery staple"},
    "ProfessionalDeactivation": {"reason": "Left the service on 31 March"},
    "FamilyCreate": {
        "children": [{"name": "Maya Ashby", "date_of_birth": "2025-11-02", "nhs_number": "943 476 5919"}],
        "carers": [{"name": "Jo Ashby", "relationship": "mother"}],
        "address": "12 Mill Lane, Ashby",
        "postcode": "AB1 2CD",
        "housing": "temporary",
        "languages": ["English"],
        "reference": "ASHBY-01",
    },
    "FamilyMatch": {"nhs_number": "943 476 5919"},
    "ChildAdd": {"name": "Baby Ashby", "expected_on": "2026-09-01"},
    "BirthRecord": {"born_on": "2026-08-28"},
    "BirthDetailsIn": {"sex": "female", "gestation_weeks": 39, "gestation_days": 2},
    "AddressChange": {"address": "3 New Road, Ashby", "housing": "settled", "moved_on": "2026-02-01"},
    "LeftArea": {"destination": "Leeds", "left_on": "2026-02-10"},
    "ReturnedToArea": {"address": "12 Mill Lane, Ashby", "housing": "settled"},
    "ReferralIn": {
        "source_kind": "agency",
        "source_agency_id": AGENCY,
        "concerns": "Two missed health visits and a report of an unheated home.",
        "child_ids": [CHILD],
        "received_on": "2026-01-15",
    },
    "ReferralDecision": {
        "outcome": "early_help",
        "reason": "Needs met by a Team Around the Family",
        "feedback_sent_on": "2026-01-17",
    },
    "ReferralFeedbackIn": {"feedback": "Early help offered; lead is the health visitor.", "given_to": "Dr Khan"},
    "ConcernIn": {
        "source_kind": "member_of_public",
        "description": "Neighbour heard a child crying for a long time late at night.",
        "reporter_known_to_agency": False,
        "child_ids": [CHILD],
    },
    "ConcernResponse": {
        "response": "Home visit the next morning",
        "welfare_check_done": True,
        "action": "welfare_check",
    },
    "ConsentIn": {
        "given_by": "Jo Ashby",
        "capacity": "parental_responsibility",
        "scope": "Sharing with the TAF agencies",
        "agency_ids": [AGENCY],
    },
    "ConsentWithdrawal": {"reason": "Jo no longer wants information shared with the school"},
    "SharingDecisionIn": {
        "what": "The chronology",
        "with_whom": "Ashby Primary School",
        "lawful_basis": "Children Act 2004 s.11",
        "why": "The school needs to know of the missed appointments",
        "agency_ids": [AGENCY],
    },
    "ContactIn": {
        "kind": "home_visit",
        "outcome": "seen",
        "child_ids_seen": [CHILD],
        "home_entered": True,
        "planned": True,
        "notes": "Maya seen and well; the heating is fixed.",
        "occurred_on": "2026-03-02",
    },
    "GrowthIn": {"weight_kg": 7.4, "measured_on": "2026-03-02"},
    "RegistrationIn": {"service": "gp", "registered_on": "2026-01-20"},
    "ClaimIn": {"statement": "We are registered with Mill Lane surgery", "reported_by": "Jo Ashby"},
    "ClaimVerification": {"outcome": "verified", "method": "Checked with the surgery by phone"},
    "ClaimDecisionIn": {"decision": "act_on_it", "rationale": "Registration matters for the baby's checks"},
    "AssessmentIn": {"kind": "gcp2", "reason": "Concerns about physical care"},
    "AssessmentStart": {"occurred_on": "2026-02-03"},
    "AssessmentCompletion": {
        "findings": "Care improving with support",
        "grades": {"physical_care": 3, "safety": 2, "love": 2, "esteem": 2},
    },
    "AssessmentDeclination": {
        "reason": "Replaced by a GCP2",
        "reason_kind": "superseded",
        "superseded_by": ASSESSMENT,
    },
    "SupervisionIn": {"discussion": "Progress against the plan", "decisions": "Continue at level 2"},
    "SignalReviewIn": {
        "signal": "lapsed_contact",
        "decision": "act",
        "rationale": "Visit arranged for Friday",
    },
    "HistoryReviewIn": {
        "notes": "Read the earlier episodes",
        "acknowledged": [{"item": f"assessment:{ASSESSMENT}", "note": "Findings still relevant"}],
        "overseen_by": PROFESSIONAL,
        "expectations": "Monthly supervision",
    },
    "CorrectionIn": {
        "event_version": 4,
        "correction": "The visit was on the 2nd, not the 3rd",
        "reason": "Typing slip",
    },
    "EpisodeOpen": {"level": 2},
    "LevelChange": {"level": 3, "reason": "New concerns about neglect"},
    "LeadAssign": {"professional_id": PROFESSIONAL, "agreed_with_family": True},
    "MemberJoin": {"professional_id": PROFESSIONAL},
    "PlanIn": {
        "outcomes": ["Maya's health checks are kept", "The home is warm"],
        "contact_every_days": [{"agency_id": AGENCY, "days": 14}],
        "review_by": "2026-06-01",
    },
    "ChildVoiceIn": {"kind": "said", "what": "Leo said he is hungry when he gets to school."},
    "FamilyViewIn": {"view": "Kelly agrees with weekly visits but not with the nursery place.", "about": "the plan"},
    "UniversalReviewIn": {"review": "six_to_eight_weeks", "outcome": "was_not_brought"},
    "CircumstanceIn": {
        "kind": "interpreter_needed",
        "detail": "Kelly's partner speaks Polish; an interpreter for visits.",
    },
    "MeetingIn": {
        "kind": "taf",
        "held_on": "2026-02-20",
        "attendee_ids": [PROFESSIONAL],
        "family_attended": True,
        "decisions": "Weekly visits for a month",
        "actions": [{"description": "Book the 9-month review", "owner_id": PROFESSIONAL, "due_on": "2026-04-01"}],
    },
    "ActionIn": {
        "description": "Book the 9-month review",
        "owner_id": PROFESSIONAL,
        "due_on": "2026-04-01",
        "child_ids": [CHILD],
    },
    "ActionCompletion": {"note": "Booked for 2 April"},
    "ActionReassignment": {"owner_id": PROFESSIONAL},
    "ActionCancellation": {"reason": "Done by the GP instead"},
    "ClosureRequestIn": {"reason": "needs_met", "outcome_summary": "Plan outcomes met; universal services continue."},
    "TransferRequestIn": {"to_professional_id": PROFESSIONAL, "reason": "Maya starts nursery; the school leads"},
    "StepCompletion": {"request_id": REQUEST, "step": "family_informed", "evidence": "Letter sent on 3 March"},
    "Withdrawal": {"reason": "Requested too early"},
    "WebhookCreate": {"url": "https://hooks.example.org/taf", "event_types": ["ContactRecorded", "EpisodeClosed"]},
    "WebhookUpdate": {"event_types": ["ContactRecorded", "ClosureRequested"]},
    "SecretRotation": {"overlap_seconds": 86400},
    "Redelivery": {"from_position": 1200, "to_position": 1350},
    "LeadProposalIn": {"professional_id": PROFESSIONAL, "reason": "Knows the family from the baby clinic"},
    "LeadProposalRefusal": {"reason": "Caseload full until June"},
    "StepUpIn": {"reason": "Neglect continues despite the plan", "to_agency_id": AGENCY},
    "StepUpOutcomeIn": {"outcome": "social_care_assessment", "note": "Assessment allocated"},
    "DisagreementIn": {"about": "The decision to close", "level": 1, "detail": "The school still has concerns"},
    "DisagreementEscalation": {"level": 2, "detail": "Not resolved between the practitioners"},
    "DisagreementResolution": {"outcome": "Agreed to keep the case open for a month"},
}
