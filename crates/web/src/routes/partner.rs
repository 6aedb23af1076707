//! The partner API under `/partner/v1`: platforms with their own key (`Authorization:
//! Bearer rpk_…`), never a staff session.

use super::{Access, Answer, Route, r};
use crate::openapi::schema;
use crate::partner::{
    self as p, PartnerAckReq, PartnerDecisionReq, PartnerListQuery, PartnerNotice,
    PartnerNoticeDocument, PartnerNoticeList,
};
use axum::routing::{get, post};
use rempart_domain::policy::PartnerAction;

/// The answers of an acknowledgement or a decision: recorded now, or already recorded.
const ANSWERED: &[Answer] = &[
    Answer::Json(201, schema::<PartnerNotice>),
    Answer::Json(200, schema::<PartnerNotice>),
];

pub(super) fn routes() -> Vec<Route> {
    use Access::Partner;
    use PartnerAction::*;
    Vec::from([
        r(
            "GET",
            "/partner/v1/notices",
            Partner(ReadNotice),
            "The platform's open notices (sent, not decided) or those in a state, oldest sent first, by pages",
            get(p::list),
        )
        .query::<PartnerListQuery>()
        .ok::<PartnerNoticeList>(),
        r(
            "GET",
            "/partner/v1/notices/{id}",
            Partner(ReadNotice),
            "The exact notice document prepared for the platform (its first fetch counts as delivered)",
            get(p::get),
        )
        .ok::<PartnerNoticeDocument>(),
        r(
            "POST",
            "/partner/v1/notices/{id}/acknowledgement",
            Partner(AnswerNotice),
            "The platform acknowledges a notice with its ticket (the same again answers 200; another ticket is 409)",
            post(p::acknowledge),
        )
        .body::<PartnerAckReq>()
        .answers(ANSWERED)
        .errors(&[409]),
        r(
            "POST",
            "/partner/v1/notices/{id}/decision",
            Partner(AnswerNotice),
            "The platform's decision on a notice (the same again answers 200; one its state cannot take is 409)",
            post(p::decide),
        )
        .body::<PartnerDecisionReq>()
        .answers(ANSWERED)
        .errors(&[409]),
    ])
}
