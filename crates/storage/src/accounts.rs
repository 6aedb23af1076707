//! Invitations (a new account sets its own password and second factor), grants of the
//! supervisor or administrator role awaiting a second administrator, and passkeys.

use crate::audit::AuditEntry;
use crate::records::{SessionRecord, StaffRecord};
use crate::{Result, StorageError, Store};
use rempart_domain::ids::StaffId;
use rempart_domain::policy::Role;
use sqlx::Row;
use sqlx::any::AnyRow;

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationStatus {
    /// Waits for a second administrator (supervisor or administrator role).
    PendingApproval,
    /// Its link works until it expires.
    Open,
    /// The account exists.
    Accepted,
    /// Withdrawn by an administrator.
    Revoked,
    /// Refused by the second administrator.
    Refused,
}

impl InvitationStatus {
    fn as_str(self) -> &'static str {
        match self {
            InvitationStatus::PendingApproval => "pending_approval",
            InvitationStatus::Open => "open",
            InvitationStatus::Accepted => "accepted",
            InvitationStatus::Revoked => "revoked",
            InvitationStatus::Refused => "refused",
        }
    }
    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "pending_approval" => InvitationStatus::PendingApproval,
            "open" => InvitationStatus::Open,
            "accepted" => InvitationStatus::Accepted,
            "revoked" => InvitationStatus::Revoked,
            "refused" => InvitationStatus::Refused,
            _ => return Err(StorageError::Corrupt("invitations.status")),
        })
    }
}

/// An invitation as stored (its token only as a hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationRecord {
    /// Id.
    pub id: String,
    /// SHA-256 of the link's token (None while it waits for approval).
    pub token_hash: Option<String>,
    /// The e-mail the account will log in with.
    pub email: String,
    /// Name shown to colleagues.
    pub display_name: String,
    /// Role granted.
    pub role: Role,
    /// Team.
    pub team: Option<String>,
    /// Language.
    pub lang: String,
    /// Where it stands.
    pub status: InvitationStatus,
    /// The administrator who invited.
    pub invited_by: StaffId,
    /// The second administrator who approved it.
    pub approved_by: Option<StaffId>,
    /// Created (ms).
    pub created_at: i64,
    /// The link stops working then (ms).
    pub expires_at: i64,
}

/// A grant of the supervisor or administrator role to an existing account, awaiting a
/// second administrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleGrantRecord {
    /// Id.
    pub id: String,
    /// The account.
    pub staff_id: StaffId,
    /// The role asked for.
    pub role: Role,
    /// The team with it.
    pub team: Option<String>,
    /// Who asked.
    pub requested_by: StaffId,
    /// Asked at (ms).
    pub created_at: i64,
}

/// A registered passkey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRecord {
    /// Id.
    pub id: String,
    /// Its account.
    pub staff_id: StaffId,
    /// The credential id (base64url), unique.
    pub credential_id: String,
    /// The name its owner gave it.
    pub name: String,
    /// The serialised credential (public key, counter), as the WebAuthn library keeps it.
    pub passkey: String,
    /// Registered (ms).
    pub created_at: i64,
    /// Last used (ms).
    pub last_used_at: Option<i64>,
}

fn staff_id(s: &str) -> Result<StaffId> {
    StaffId::parse(s).map_err(|_| StorageError::Corrupt("staff id"))
}

fn role(s: &str) -> Result<Role> {
    Role::parse(s).map_err(|_| StorageError::Corrupt("role"))
}

const INV_COLS: &str = "id, token_hash, email, display_name, role, team, lang, status, invited_by, approved_by, created_at, expires_at";

fn invitation(r: &AnyRow) -> Result<InvitationRecord> {
    let approved: Option<String> = r.try_get("approved_by")?;
    Ok(InvitationRecord {
        id: r.try_get("id")?,
        token_hash: r.try_get("token_hash")?,
        email: r.try_get("email")?,
        display_name: r.try_get("display_name")?,
        role: role(&r.try_get::<String, _>("role")?)?,
        team: r.try_get("team")?,
        lang: r.try_get("lang")?,
        status: InvitationStatus::parse(&r.try_get::<String, _>("status")?)?,
        invited_by: staff_id(&r.try_get::<String, _>("invited_by")?)?,
        approved_by: approved.as_deref().map(staff_id).transpose()?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
    })
}

impl Store {
    /// Stores a new invitation (`Conflict` when the e-mail already has an account or an
    /// invitation in progress).
    pub async fn create_invitation(&self, i: &InvitationRecord, audit: &AuditEntry) -> Result<()> {
        let mut w = self.begin_write().await?;
        let taken: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM staff WHERE email = $1) + \
             (SELECT COUNT(*) FROM invitations WHERE email = $1 AND status IN ('pending_approval', 'open') AND expires_at > $2)",
        )
        .bind(i.email.clone())
        .bind(i.created_at)
        .fetch_one(w.conn())
        .await?;
        if taken > 0 {
            return w.refuse(StorageError::Conflict).await;
        }
        sqlx::query(
            "INSERT INTO invitations (id, token_hash, email, display_name, role, team, lang, status, invited_by, approved_by, \
             staff_id, created_at, expires_at, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL, $10, $11, NULL)",
        )
        .bind(i.id.clone())
        .bind(i.token_hash.clone())
        .bind(i.email.clone())
        .bind(i.display_name.clone())
        .bind(i.role.as_str())
        .bind(i.team.clone())
        .bind(i.lang.clone())
        .bind(i.status.as_str())
        .bind(i.invited_by.to_string())
        .bind(i.created_at)
        .bind(i.expires_at)
        .execute(w.conn())
        .await
        .map_err(crate::conflict_on_unique)?;
        w.commit(audit).await
    }

    /// Invitations awaiting approval or acceptance (newest first).
    pub async fn open_invitations(&self, now: i64) -> Result<Vec<InvitationRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {INV_COLS} FROM invitations WHERE status IN ('pending_approval', 'open') AND expires_at > $1 \
             ORDER BY created_at DESC LIMIT 200"
        )))
        .bind(now)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(invitation).collect()
    }

    /// An invitation by id.
    pub async fn invitation(&self, id: &str) -> Result<Option<InvitationRecord>> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {INV_COLS} FROM invitations WHERE id = $1"
        )))
        .bind(id.to_owned())
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(invitation).transpose()
    }

    /// An open, unexpired invitation by its token's hash.
    pub async fn invitation_by_token(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<InvitationRecord>> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {INV_COLS} FROM invitations WHERE token_hash = $1 AND status = 'open' AND expires_at > $2"
        )))
        .bind(token_hash.to_owned())
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(invitation).transpose()
    }

    /// A second administrator approves (with the link's token hash) or refuses a pending
    /// invitation; `Conflict` when it is no longer pending or `by` issued it.
    pub async fn decide_invitation(
        &self,
        id: &str,
        by: StaffId,
        approve: Option<(&str, i64)>,
        audit: &AuditEntry,
    ) -> Result<()> {
        let mut w = self.begin_write().await?;
        let n = match approve {
            Some((token_hash, expires_at)) => sqlx::query(
                "UPDATE invitations SET status = 'open', approved_by = $1, token_hash = $2, expires_at = $3, decided_at = $4 \
                 WHERE id = $5 AND status = 'pending_approval' AND invited_by <> $1",
            )
            .bind(by.to_string())
            .bind(token_hash.to_owned())
            .bind(expires_at)
            .bind(audit.at)
            .bind(id.to_owned())
            .execute(w.conn())
            .await?
            .rows_affected(),
            None => sqlx::query(
                "UPDATE invitations SET status = 'refused', approved_by = $1, decided_at = $2 \
                 WHERE id = $3 AND status = 'pending_approval' AND invited_by <> $1",
            )
            .bind(by.to_string())
            .bind(audit.at)
            .bind(id.to_owned())
            .execute(w.conn())
            .await?
            .rows_affected(),
        };
        if n == 0 {
            return w.refuse(StorageError::Conflict).await;
        }
        w.commit(audit).await
    }

    /// Withdraws an invitation not yet accepted.
    pub async fn revoke_invitation(&self, id: &str, audit: &AuditEntry) -> Result<()> {
        let mut w = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE invitations SET status = 'revoked', decided_at = $1 WHERE id = $2 AND status IN ('pending_approval', 'open')",
        )
        .bind(audit.at)
        .bind(id.to_owned())
        .execute(w.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return w.refuse(StorageError::NotFound).await;
        }
        w.commit(audit).await
    }

    /// Accepts an open invitation: the account is created with the password its person
    /// chose, and a session opens for them — once (`Conflict` when the link was used,
    /// withdrawn or has expired meanwhile, or the e-mail got an account).
    pub async fn accept_invitation(
        &self,
        token_hash: &str,
        account: &StaffRecord,
        session: &SessionRecord,
        accepted: &AuditEntry,
        login: &AuditEntry,
    ) -> Result<()> {
        let mut w = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE invitations SET status = 'accepted', staff_id = $1, decided_at = $2 \
             WHERE token_hash = $3 AND status = 'open' AND expires_at > $2",
        )
        .bind(account.id.to_string())
        .bind(accepted.at)
        .bind(token_hash.to_owned())
        .execute(w.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return w.refuse(StorageError::Conflict).await;
        }
        crate::staff::insert_staff(w.conn(), account).await?;
        crate::staff::insert_session(w.conn(), session).await?;
        w.audit(accepted).await?;
        w.commit(login).await
    }
}

const GRANT_COLS: &str = "id, staff_id, role, team, requested_by, created_at";

fn grant(r: &AnyRow) -> Result<RoleGrantRecord> {
    Ok(RoleGrantRecord {
        id: r.try_get("id")?,
        staff_id: staff_id(&r.try_get::<String, _>("staff_id")?)?,
        role: role(&r.try_get::<String, _>("role")?)?,
        team: r.try_get("team")?,
        requested_by: staff_id(&r.try_get::<String, _>("requested_by")?)?,
        created_at: r.try_get("created_at")?,
    })
}

impl Store {
    /// Records a grant awaiting a second administrator (`Conflict` when one is pending for
    /// the account already).
    pub async fn request_role_grant(&self, g: &RoleGrantRecord, audit: &AuditEntry) -> Result<()> {
        let mut w = self.begin_write().await?;
        let pending: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM role_grants WHERE staff_id = $1 AND status = 'pending'",
        )
        .bind(g.staff_id.to_string())
        .fetch_one(w.conn())
        .await?;
        if pending > 0 {
            return w.refuse(StorageError::Conflict).await;
        }
        sqlx::query(
            "INSERT INTO role_grants (id, staff_id, role, team, status, requested_by, decided_by, created_at, decided_at) \
             VALUES ($1, $2, $3, $4, 'pending', $5, NULL, $6, NULL)",
        )
        .bind(g.id.clone())
        .bind(g.staff_id.to_string())
        .bind(g.role.as_str())
        .bind(g.team.clone())
        .bind(g.requested_by.to_string())
        .bind(g.created_at)
        .execute(w.conn())
        .await?;
        w.commit(audit).await
    }

    /// Grants awaiting a second administrator.
    pub async fn pending_role_grants(&self) -> Result<Vec<RoleGrantRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {GRANT_COLS} FROM role_grants WHERE status = 'pending' ORDER BY created_at LIMIT 200"
        )))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(grant).collect()
    }

    /// A pending grant by id.
    pub async fn pending_role_grant(&self, id: &str) -> Result<Option<RoleGrantRecord>> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {GRANT_COLS} FROM role_grants WHERE id = $1 AND status = 'pending'"
        )))
        .bind(id.to_owned())
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(grant).transpose()
    }

    /// A second administrator approves (the account takes the role at once) or refuses a
    /// pending grant; `Conflict` when it is no longer pending or `by` asked for it.
    pub async fn decide_role_grant(
        &self,
        id: &str,
        by: StaffId,
        approve: bool,
        audit: &AuditEntry,
    ) -> Result<()> {
        let mut w = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE role_grants SET status = $1, decided_by = $2, decided_at = $3 \
             WHERE id = $4 AND status = 'pending' AND requested_by <> $2 RETURNING staff_id, role, team",
        )
        .bind(if approve { "approved" } else { "refused" })
        .bind(by.to_string())
        .bind(audit.at)
        .bind(id.to_owned())
        .fetch_optional(w.conn())
        .await?;
        let Some(row) = row else {
            return w.refuse(StorageError::Conflict).await;
        };
        if approve {
            let (staff, role, team): (String, String, Option<String>) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            sqlx::query("UPDATE staff SET role = $1, team = $2, updated_at = $3 WHERE id = $4")
                .bind(role)
                .bind(team)
                .bind(audit.at)
                .bind(staff)
                .execute(w.conn())
                .await?;
        }
        w.commit(audit).await
    }

    /// Enabled administrators.
    pub async fn admin_count(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM staff WHERE role = 'admin' AND disabled = 0")
                .fetch_one(self.pool())
                .await?,
        )
    }
}

const PASSKEY_COLS: &str = "id, staff_id, credential_id, name, passkey, created_at, last_used_at";

fn passkey(r: &AnyRow) -> Result<PasskeyRecord> {
    Ok(PasskeyRecord {
        id: r.try_get("id")?,
        staff_id: staff_id(&r.try_get::<String, _>("staff_id")?)?,
        credential_id: r.try_get("credential_id")?,
        name: r.try_get("name")?,
        passkey: r.try_get("passkey")?,
        created_at: r.try_get("created_at")?,
        last_used_at: r.try_get("last_used_at")?,
    })
}

impl Store {
    /// Registers a passkey (`Conflict` when its credential is registered already).
    pub async fn add_passkey(&self, p: &PasskeyRecord, audit: &AuditEntry) -> Result<()> {
        let mut w = self.begin_write().await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO passkeys ({PASSKEY_COLS}) VALUES ($1, $2, $3, $4, $5, $6, NULL)"
        )))
        .bind(p.id.clone())
        .bind(p.staff_id.to_string())
        .bind(p.credential_id.clone())
        .bind(p.name.clone())
        .bind(p.passkey.clone())
        .bind(p.created_at)
        .execute(w.conn())
        .await
        .map_err(crate::conflict_on_unique)?;
        w.commit(audit).await
    }

    /// An account's passkeys.
    pub async fn passkeys(&self, staff: StaffId) -> Result<Vec<PasskeyRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {PASSKEY_COLS} FROM passkeys WHERE staff_id = $1 ORDER BY created_at"
        )))
        .bind(staff.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(passkey).collect()
    }

    /// Keeps a passkey's new state after a use (its signature counter).
    pub async fn passkey_used(&self, id: &str, passkey: &str, at: i64) -> Result<()> {
        let mut w = self.begin_write().await?;
        sqlx::query("UPDATE passkeys SET passkey = $1, last_used_at = $2 WHERE id = $3")
            .bind(passkey.to_owned())
            .bind(at)
            .bind(id.to_owned())
            .execute(w.conn())
            .await?;
        w.commit_unaudited().await
    }

    /// Removes one of an account's passkeys.
    pub async fn remove_passkey(&self, id: &str, staff: StaffId, audit: &AuditEntry) -> Result<()> {
        let mut w = self.begin_write().await?;
        let n = sqlx::query("DELETE FROM passkeys WHERE id = $1 AND staff_id = $2")
            .bind(id.to_owned())
            .bind(staff.to_string())
            .execute(w.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return w.refuse(StorageError::NotFound).await;
        }
        w.commit(audit).await
    }
}
