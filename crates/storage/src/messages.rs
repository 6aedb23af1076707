//! Message rows, shared by the conversation queries and the group-commit writer.

use crate::chat::MessageRecord;
use crate::{Result, StorageError};
use rempart_domain::chat::{RiskKind, Sender};
use rempart_domain::ids::{ConversationId, StaffId};
use sqlx::Row;
use sqlx::any::AnyRow;

fn bad(what: &'static str) -> impl Fn(rempart_domain::labelled::UnknownCode) -> StorageError {
    move |_| StorageError::Corrupt(what)
}

pub(crate) fn message(r: &AnyRow) -> Result<MessageRecord> {
    let id: String = r.try_get("conversation_id")?;
    let sender: String = r.try_get("sender")?;
    let author: Option<String> = r.try_get("author_id")?;
    Ok(MessageRecord {
        conversation_id: ConversationId::parse(&id)
            .map_err(|_| StorageError::Corrupt("messages.conversation_id"))?,
        seq: r.try_get("seq")?,
        sender: Sender::parse(&sender).map_err(bad("messages.sender"))?,
        author_id: author
            .map(|a| StaffId::parse(&a))
            .transpose()
            .map_err(|_| StorageError::Corrupt("messages.author_id"))?,
        client_id: r.try_get("client_id")?,
        body: r.try_get("body")?,
        created_at: r.try_get("created_at")?,
    })
}

pub(crate) const MSG_COLS: &str =
    "conversation_id, seq, sender, author_id, client_id, body, created_at";

pub(crate) fn risk_codes(r: &[RiskKind]) -> Vec<String> {
    r.iter().map(|k| k.as_str().to_owned()).collect()
}
