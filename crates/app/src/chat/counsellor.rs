//! The counsellor's side of the live chat: the queue, taking a conversation, reading and
//! answering it, ending it with the contact summary, availability, loads and transfers.

use super::*;

impl App {
    /// The queue (and the messages left while closed), for those who answer chats.
    pub async fn chat_queue(&self, actor: &Actor) -> Result<Queue, AppError> {
        if !can(actor, Action::AnswerChats, Resource::Global) {
            return Err(AppError::not_found());
        }
        let open = self.is_open_now();
        let waiting = self.store.queue(open).await?;
        let left = if open {
            vec![]
        } else {
            self.store.left_messages().await?
        };
        Ok(Queue {
            waiting,
            left,
            open,
        })
    }

    /// The conversations the actor is handling now.
    pub async fn my_conversations(
        &self,
        actor: &Actor,
    ) -> Result<Vec<ConversationRecord>, AppError> {
        if !can(actor, Action::AnswerChats, Resource::Global) {
            return Err(AppError::not_found());
        }
        Ok(self.store.active_conversations(actor.id).await?)
    }

    async fn may_take(&self, actor: &Actor) -> Result<(), AppError> {
        if !can(actor, Action::AnswerChats, Resource::Global) {
            return Err(AppError::not_found());
        }
        let load = self.store.chat_loads(Some(actor.id)).await?;
        match load.first() {
            Some(l) if !l.available => Err(AppError::new(
                ErrorCode::Conflict,
                "you are not available for chats: set yourself available first",
            )),
            Some(l) if l.active >= l.capacity => Err(AppError::new(
                ErrorCode::Conflict,
                "you are at your chat capacity",
            )),
            Some(_) => Ok(()),
            None => Err(AppError::not_found()),
        }
    }

    async fn taken(&self, c: &ConversationRecord) -> Result<(), AppError> {
        self.pubsub.publish(Event::Queue).await?;
        self.pubsub
            .publish(Event::Conversation {
                conversation: c.id.to_string(),
            })
            .await?;
        Ok(())
    }

    /// Takes the most urgent waiting conversation (once the line is open, the messages
    /// left while it was closed are among them).
    pub async fn take_next_chat(
        &self,
        actor: &Actor,
    ) -> Result<Option<ConversationRecord>, AppError> {
        self.may_take(actor).await?;
        let taken = self
            .store
            .take_next(actor.id, actor.role, self.now(), self.is_open_now())
            .await?;
        if let Some(c) = &taken {
            self.taken(c).await?;
        }
        Ok(taken)
    }

    /// Takes this message left while the line was closed.
    pub async fn take_left_message(
        &self,
        actor: &Actor,
        id: ConversationId,
    ) -> Result<ConversationRecord, AppError> {
        self.chat_for(actor, id, Action::TakeConversation).await?;
        self.may_take(actor).await?;
        let c = self
            .store
            .take_left_message(id, actor.id, actor.role, self.now())
            .await
            .map_err(|e| match e {
                rempart_storage::StorageError::Conflict => {
                    AppError::new(ErrorCode::Conflict, "someone took it first")
                }
                other => other.into(),
            })?;
        self.taken(&c).await?;
        Ok(c)
    }

    /// A conversation the actor may `action` (the policy's decision). Refused: `not_found`,
    /// as for a conversation that does not exist — except to its own counsellor, who is
    /// told it has ended.
    pub(crate) async fn chat_for(
        &self,
        actor: &Actor,
        id: ConversationId,
        action: Action,
    ) -> Result<ConversationRecord, AppError> {
        let conv = self
            .store
            .conversation(id)
            .await?
            .ok_or_else(AppError::not_found)?;
        let access = conv.access();
        if can(actor, action, Resource::Conversation(&access)) {
            return Ok(conv);
        }
        let own_and_over = matches!(action, Action::WriteConversation | Action::EndConversation)
            && can(
                actor,
                Action::ReadConversation,
                Resource::Conversation(&access),
            )
            && conv.assigned_to == Some(actor.id);
        if own_and_over && conv.status == ConversationStatus::Left {
            return Err(gone());
        }
        if own_and_over {
            return Err(ended());
        }
        self.store
            .audit(
                &AuditEntry::new(
                    self.now(),
                    Some(actor.id),
                    AuditEvent::ConversationAccessDenied,
                )
                .object(id),
            )
            .await?;
        Err(AppError::not_found())
    }

    /// Why a conversation refused a reply: the young person left it, or it ended.
    async fn why_closed(&self, id: ConversationId) -> Option<AppError> {
        let c = self.store.conversation(id).await.ok()??;
        Some(if c.status == ConversationStatus::Left {
            gone()
        } else {
            ended()
        })
    }

    /// The transcript after `after`. The read is audited, except the pushes of a live view
    /// whose opening was audited (`audit_read` false); access is checked every time.
    pub async fn counsellor_messages(
        &self,
        actor: &Actor,
        id: ConversationId,
        after: i64,
        audit_read: bool,
    ) -> Result<(ConversationRecord, Vec<MessageRecord>), AppError> {
        let conv = self.chat_for(actor, id, Action::ReadConversation).await?;
        let msgs = self.store.messages(id, after.max(0), 500).await?;
        if audit_read {
            self.audit_conversation_read(actor, id, after).await?;
        }
        Ok((conv, msgs))
    }

    pub(crate) async fn audit_conversation_read(
        &self,
        actor: &Actor,
        id: ConversationId,
        after: i64,
    ) -> Result<(), AppError> {
        self.store
            .audit(
                &AuditEntry::new(
                    self.now(),
                    Some(actor.id),
                    AuditEvent::ConversationRead { after },
                )
                .object(id),
            )
            .await?;
        Ok(())
    }

    /// A conversation's page: the transcript (audited), the person's earlier contacts the
    /// reader may see, and whether the reader may write.
    pub async fn conversation_view(
        &self,
        actor: &Actor,
        id: ConversationId,
    ) -> Result<ConversationView, AppError> {
        let (conversation, messages) = self.counsellor_messages(actor, id, 0, true).await?;
        let history = self.visible_history(actor, &conversation).await?;
        let access = conversation.access();
        let can_write = can(
            actor,
            Action::WriteConversation,
            Resource::Conversation(&access),
        );
        let can_take = can(
            actor,
            Action::TakeConversation,
            Resource::Conversation(&access),
        );
        let can_end = can(
            actor,
            Action::EndConversation,
            Resource::Conversation(&access),
        );
        Ok(ConversationView {
            conversation,
            messages,
            history,
            can_write,
            can_take,
            can_end,
        })
    }

    /// A counsellor's reply.
    pub async fn counsellor_send(
        &self,
        actor: &Actor,
        id: ConversationId,
        client_id: &str,
        text: &str,
    ) -> Result<MessageRecord, AppError> {
        check_client_id(client_id)?;
        let text = body(text)?;
        let conv = self.chat_for(actor, id, Action::WriteConversation).await?;
        let appended = self
            .store
            .append_message(
                conv.id,
                Sender::Counsellor,
                Some(actor.id),
                client_id,
                &text,
                self.now(),
                &[],
            )
            .await
            .map_err(|e| match e {
                rempart_storage::StorageError::Conflict => ended(),
                other => other.into(),
            });
        let appended = match appended {
            Ok(a) => a,
            // the young person may have left between the check and the append
            Err(e) => return Err(self.why_closed(conv.id).await.unwrap_or(e)),
        };
        self.published(conv.id, appended, &text).await
    }

    /// Ends a conversation with its contact summary (a contact of the pseudonymous person).
    pub async fn end_chat(
        &self,
        actor: &Actor,
        id: ConversationId,
        s: ChatSummary,
    ) -> Result<ContactRecord, AppError> {
        let conv = self.chat_for(actor, id, Action::EndConversation).await?;
        if let Some(c) = s.case_id {
            let case = self
                .store
                .case_by_id(c)
                .await?
                .ok_or_else(|| AppError::field("case_reference", "no such case"))?;
            if !can(actor, Action::UpdateCase, Resource::Case(&case.access())) {
                return Err(AppError::field("case_reference", "no such case"));
            }
        }
        let now = self.now();
        let summary = Text::parse(&s.summary, 4000)
            .map_err(|e| AppError::field("summary", &e.to_string()))?;
        for c in &s.categories {
            if !self.taxonomy.contains(c) {
                return Err(AppError::field("categories", "unknown category"));
            }
        }
        if s.open_case && s.case_id.is_some() {
            return Err(AppError::field(
                "open_case",
                "either open a case or join one",
            ));
        }
        let new_case = if s.open_case {
            let title = rempart_domain::text::short_title(summary.as_str(), 80);
            Some(self.new_case(
                actor,
                crate::cases::CaseInput {
                    title,
                    categories: s.categories.clone(),
                    age_band: s.age_band,
                    preferred_channel: Some(conv.channel),
                    consents: vec![],
                    articles: vec![],
                    team: None,
                },
            )?)
        } else {
            None
        };
        let case_id = new_case.as_ref().map(|c| c.id).or(s.case_id);
        let contact = ContactRecord {
            id: ContactId::new(),
            case_id,
            channel: conv.channel,
            caller_type: s.caller_type,
            age_band: s.age_band,
            categories: s.categories,
            summary: summary.into_string(),
            outcome: s.outcome,
            person_key: Some(conv.person_key.clone()),
            started_at: conv.created_at,
            duration_s: Some((now - conv.created_at).max(0) / 1000),
            created_by: actor.id,
            created_at: now,
        };
        let mut audit = AuditEntry::new(
            now,
            Some(actor.id),
            AuditEvent::ConversationEnded {
                case_opened: new_case.is_some(),
            },
        )
        .object(id);
        if let Some(c) = case_id {
            audit = audit.case(c);
        }
        self.store
            .end_conversation(id, &contact, new_case.as_ref(), &audit)
            .await
            .map_err(|e| match e {
                rempart_storage::StorageError::Conflict => ended(),
                other => other.into(),
            })?;
        self.pubsub
            .publish(Event::Conversation {
                conversation: id.to_string(),
            })
            .await?;
        Ok(contact)
    }

    /// Earlier contacts of the same person as this conversation, for its reader: only
    /// those without a case and those whose case the reader may see.
    pub async fn person_history(
        &self,
        actor: &Actor,
        id: ConversationId,
    ) -> Result<Vec<ContactRecord>, AppError> {
        let conv = self.chat_for(actor, id, Action::ReadConversation).await?;
        self.visible_history(actor, &conv).await
    }

    async fn visible_history(
        &self,
        actor: &Actor,
        conv: &ConversationRecord,
    ) -> Result<Vec<ContactRecord>, AppError> {
        let all = self.store.contacts_for_person(&conv.person_key).await?;
        let mut seen: std::collections::HashMap<CaseId, bool> = std::collections::HashMap::new();
        let mut out = Vec::with_capacity(all.len());
        for k in all {
            let visible = match k.case_id {
                None => true,
                Some(c) => match seen.get(&c) {
                    Some(v) => *v,
                    None => {
                        let v = match self.store.case_by_id(c).await? {
                            Some(case) => {
                                can(actor, Action::ReadCase, Resource::Case(&case.access()))
                            }
                            None => false,
                        };
                        seen.insert(c, v);
                        v
                    }
                },
            };
            if visible {
                out.push(k);
            }
        }
        Ok(out)
    }
}

impl App {
    /// Sets the actor's own availability for chats and capacity (1–10 at once).
    pub async fn set_chat_availability(
        &self,
        actor: &Actor,
        available: bool,
        capacity: i64,
    ) -> Result<rempart_storage::ChatLoad, AppError> {
        if !can(actor, Action::AnswerChats, Resource::Global) {
            return Err(AppError::not_found());
        }
        if !(1..=10).contains(&capacity) {
            return Err(AppError::field("capacity", "between 1 and 10"));
        }
        self.store
            .set_chat_availability(
                actor.id,
                available,
                capacity,
                &AuditEntry::new(
                    self.now(),
                    Some(actor.id),
                    AuditEvent::ChatAvailability {
                        available,
                        capacity,
                    },
                )
                .object(actor.id),
            )
            .await?;
        self.pubsub.publish(Event::Queue).await?;
        self.store
            .chat_loads(Some(actor.id))
            .await?
            .into_iter()
            .next()
            .ok_or_else(AppError::not_found)
    }

    /// Who handles how many chats, and who is available: the actor's own line, or every
    /// counsellor's for those who monitor the chats.
    pub async fn chat_loads(
        &self,
        actor: &Actor,
    ) -> Result<Vec<rempart_storage::ChatLoad>, AppError> {
        if can(actor, Action::MonitorChats, Resource::Global) {
            let workers: Vec<_> = self
                .case_workers()
                .await?
                .into_iter()
                .map(|s| s.id)
                .collect();
            Ok(self
                .store
                .chat_loads(None)
                .await?
                .into_iter()
                .filter(|l| workers.contains(&l.staff_id))
                .collect())
        } else if can(actor, Action::AnswerChats, Resource::Global) {
            Ok(self.store.chat_loads(Some(actor.id)).await?)
        } else {
            Err(AppError::not_found())
        }
    }
}

/// Where a conversation is handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferTarget {
    /// A colleague, at once.
    Staff(rempart_domain::ids::StaffId),
    /// The first available person with this role (e.g. a lawyer), from the queue.
    Role(Role),
}

impl App {
    /// Hands the actor's conversation to a colleague or a role, with an internal note the
    /// young person never sees. The actor loses access at once (its live view closes).
    pub async fn transfer_chat(
        &self,
        actor: &Actor,
        id: ConversationId,
        to: TransferTarget,
        note: Option<&str>,
    ) -> Result<(), AppError> {
        self.chat_for(actor, id, Action::WriteConversation).await?;
        let handover = match to {
            TransferTarget::Staff(s) => {
                let target = self
                    .store
                    .staff_by_id(s)
                    .await?
                    .ok_or_else(|| AppError::field("to_staff", "unknown account"))?;
                if target.disabled || !target.role.works_cases() || target.id == actor.id {
                    return Err(AppError::field(
                        "to_staff",
                        "this account cannot take the conversation",
                    ));
                }
                rempart_storage::Handover::Staff(s)
            }
            TransferTarget::Role(r) => {
                if !r.works_cases() {
                    return Err(AppError::field(
                        "to_role",
                        "this role does not answer chats",
                    ));
                }
                rempart_storage::Handover::Role(r)
            }
        };
        let note = match note.map(str::trim).filter(|n| !n.is_empty()) {
            None => None,
            Some(n) => Some(body(n)?),
        };
        let client_id = crate::random_hex(8)?;
        let target = match to {
            TransferTarget::Staff(s) => HandoverTarget::Staff(s),
            TransferTarget::Role(r) => HandoverTarget::Role(r),
        };
        self.store
            .hand_over(
                id,
                actor.id,
                handover,
                note.as_deref().map(|n| (client_id.as_str(), n)),
                &AuditEntry::new(
                    self.now(),
                    Some(actor.id),
                    AuditEvent::ConversationTransferred { to: target },
                )
                .object(id),
            )
            .await
            .map_err(|e| match e {
                rempart_storage::StorageError::Conflict => {
                    AppError::new(ErrorCode::Conflict, "the conversation changed meanwhile")
                }
                other => other.into(),
            })?;
        self.pubsub
            .publish(Event::Conversation {
                conversation: id.to_string(),
            })
            .await?;
        self.pubsub.publish(Event::Queue).await?;
        Ok(())
    }
}
