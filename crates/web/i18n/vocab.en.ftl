# The words of the domain's closed vocabularies (the domain keeps their codes): `<vocabulary>-<code>`.

# notice-state
notice-state-draft = draft
notice-state-ready = ready to send
notice-state-sent = sent
notice-state-acknowledged = acknowledged
notice-state-removed = removed
notice-state-restricted = restricted
notice-state-refused = refused
notice-state-no_answer = no answer
notice-state-failed = delivery failed
notice-state-escalated = escalated

# decision
decision-removed = removed
decision-restricted = restricted
decision-refused = refused
decision-no_answer = no answer

# decision-kind
decision-kind-content_removed = content removed
decision-kind-content_disabled = content disabled
decision-kind-content_demoted = content demoted
decision-kind-content_age_restricted = content age-restricted
decision-kind-content_interaction_restricted = interactions restricted
decision-kind-content_labelled = content labelled
decision-kind-account_suspended = account suspended
decision-kind-account_terminated = account terminated
decision-kind-refused = refused
decision-kind-no_answer = no answer

# missing-element
missing-element-explanation = substantiated explanation of illegality
missing-element-location = exact location (URL or id)
missing-element-notifier_identity = notifier's name and e-mail
missing-element-good_faith_statement = good-faith statement

# case-status
case-status-new = new
case-status-in_progress = in progress
case-status-waiting_platform = waiting for the platform
case-status-waiting_victim = waiting for the victim
case-status-closed = closed

# case-outcome
case-outcome-content_removed = content removed
case-outcome-partially_removed = partly removed
case-outcome-refused = refused by the platform
case-outcome-referred = referred to a partner
case-outcome-advice_only = advice only
case-outcome-lost_contact = contact lost
case-outcome-withdrawn = withdrawn by the victim

# note-visibility
note-visibility-team = team
note-visibility-psychologists = psychologists only
note-visibility-lawyers = lawyers only

# consent-scope
consent-scope-notice_to_platform = notices to platforms
consent-scope-referral_police = referral to the police
consent-scope-referral_pharos = report to Pharos
consent-scope-referral_school = referral to the school
consent-scope-referral_support = referral to a support association
consent-scope-contact_back = being contacted back

# evidence-kind
evidence-kind-screenshot = screenshot
evidence-kind-photo = photo
evidence-kind-video = video
evidence-kind-document = document
evidence-kind-message_export = conversation export
evidence-kind-link = link
evidence-kind-excerpt = text excerpt
evidence-kind-hash_only = fingerprints only (the file was never sent)

# evidence-source
evidence-source-counsellor = added by a counsellor
evidence-source-young_person = sent by the young person on their follow-up page
evidence-source-channel = received on a messaging channel

# evidence-copy
evidence-copy-display = display copy
evidence-copy-revealed = image revealed
evidence-copy-clean = clean copy
evidence-copy-original = original

# channel
channel-web_chat = web chat
channel-whatsapp = WhatsApp
channel-messenger = Messenger
channel-phone = phone
channel-email = e-mail
channel-letter = letter
channel-walk_in = walk-in

# caller-type
caller-type-victim = victim
caller-type-parent = parent
caller-type-relative = relative or friend
caller-type-professional = professional
caller-type-other = other
caller-type-unknown = not stated

# age-band
age-band-under_11 = under 11
age-band-11_14 = 11–14
age-band-15_17 = 15–17
age-band-adult = 18 and over
age-band-unknown = not stated

# contact-outcome
contact-outcome-listened = listened and advised
contact-outcome-case_opened = case opened
contact-outcome-referred = referred
contact-outcome-information = information
contact-outcome-silent = silent contact
contact-outcome-hoax = hoax

# referral-state
referral-state-proposed = proposed
referral-state-consent_recorded = consent recorded
referral-state-sent = sent
referral-state-acknowledged = acknowledged
referral-state-closed = closed
referral-state-declined = declined
referral-state-cancelled = cancelled

# consent-basis
consent-basis-victim = victim's consent
consent-basis-guardian = guardian's consent
consent-basis-legal_obligation = legal obligation
consent-basis-vital_interest = vital interest

# item-status
item-status-online = online
item-status-notified = notified
item-status-removed = removed
item-status-restricted = restricted
item-status-kept = kept online

# notice-channel
notice-channel-coop = ROOST Coop (API)
notice-channel-rempart_api = Rempart partner API
notice-channel-http_json = signed JSON push
notice-channel-email = e-mail
notice-channel-portal = web portal

# service-kind
service-kind-police = police
service-kind-gendarmerie = gendarmerie
service-kind-pharos = Pharos
service-kind-child_protection = child protection
service-kind-school_referent = school referent
service-kind-lawyer = lawyer
service-kind-victim_support = victim support
service-kind-hotline = reporting hotline
service-kind-helpline = helpline
service-kind-suicide_prevention = suicide prevention
service-kind-data_protection = data protection
service-kind-cyber_assistance = cyber assistance

# conversation-status
conversation-status-waiting = waiting
conversation-status-active = active
conversation-status-ended = ended
conversation-status-left_message = message left (closed hours)
conversation-status-left = left (quick exit)

# sender
sender-visitor = young person / parent
sender-counsellor = counsellor
sender-system = system
sender-note = internal note (never shown to the young person)

# risk-kind
risk-kind-suicidal_thoughts = suicidal thoughts
risk-kind-blackmail_deadline = blackmail with a deadline
risk-kind-imminent_publication = imminent publication

# content-type
content-type-post = post
content-type-comment = comment
content-type-account = account
content-type-message = private message
content-type-image = image
content-type-video = video
content-type-story = story
content-type-live = live stream
content-type-group = group, server or channel
content-type-other = other

# role
role-counsellor = counsellor
role-psychologist = psychologist
role-lawyer = lawyer
role-digital_specialist = digital specialist
role-supervisor = supervisor
role-admin = administrator
complaint-audience-family = the young person and their family
complaint-audience-police = the police or the gendarmerie
referral-mail-queued = e-mail waiting to be sent
referral-mail-sent = e-mail sent
referral-mail-failed = e-mail not sent
