# The words of the domain's closed vocabularies (the domain keeps their codes): `<vocabulary>-<code>`.

# notice-state
notice-state-draft = brouillon
notice-state-ready = prêt à l'envoi
notice-state-sent = envoyé
notice-state-acknowledged = accusé de réception
notice-state-removed = retiré
notice-state-restricted = restreint
notice-state-refused = refusé
notice-state-no_answer = sans réponse
notice-state-failed = échec d'envoi
notice-state-escalated = relancé

# decision
decision-removed = retiré
decision-restricted = restreint
decision-refused = refusé
decision-no_answer = sans réponse

# decision-kind
decision-kind-content_removed = contenu retiré
decision-kind-content_disabled = contenu rendu inaccessible
decision-kind-content_demoted = contenu moins diffusé
decision-kind-content_age_restricted = contenu réservé aux adultes
decision-kind-content_interaction_restricted = interactions restreintes
decision-kind-content_labelled = contenu signalé par un avertissement
decision-kind-account_suspended = compte suspendu
decision-kind-account_terminated = compte supprimé
decision-kind-refused = refusé
decision-kind-no_answer = sans réponse

# missing-element
missing-element-explanation = explication motivée de l'illégalité
missing-element-location = localisation exacte (URL ou identifiant)
missing-element-notifier_identity = nom et e-mail du notifiant
missing-element-good_faith_statement = déclaration de bonne foi

# case-status
case-status-new = nouveau
case-status-in_progress = en cours
case-status-waiting_platform = en attente de la plateforme
case-status-waiting_victim = en attente de la victime
case-status-closed = clos

# case-outcome
case-outcome-content_removed = contenu retiré
case-outcome-partially_removed = retrait partiel
case-outcome-refused = refus de la plateforme
case-outcome-referred = orienté vers un partenaire
case-outcome-advice_only = conseils uniquement
case-outcome-lost_contact = contact perdu
case-outcome-withdrawn = abandon à la demande de la victime

# note-visibility
note-visibility-team = équipe
note-visibility-psychologists = psychologues uniquement
note-visibility-lawyers = juristes uniquement

# consent-scope
consent-scope-notice_to_platform = signalement aux plateformes
consent-scope-referral_police = transmission à la police / gendarmerie
consent-scope-referral_pharos = signalement à Pharos
consent-scope-referral_school = transmission à l'établissement scolaire
consent-scope-referral_support = orientation vers une association
consent-scope-contact_back = être recontacté

# evidence-kind
evidence-kind-screenshot = capture d'écran
evidence-kind-photo = photo
evidence-kind-video = vidéo
evidence-kind-document = document
evidence-kind-message_export = export de conversation
evidence-kind-link = lien
evidence-kind-excerpt = extrait de texte
evidence-kind-hash_only = empreintes seules (le fichier n'a jamais été transmis)

# evidence-source
evidence-source-counsellor = ajoutée par un écoutant
evidence-source-young_person = envoyée par le jeune sur sa page de suivi
evidence-source-channel = reçue sur une messagerie

# evidence-copy
evidence-copy-display = copie d'affichage
evidence-copy-revealed = image dévoilée
evidence-copy-clean = copie nettoyée
evidence-copy-original = original

# channel
channel-web_chat = tchat
channel-whatsapp = WhatsApp
channel-messenger = Messenger
channel-phone = téléphone
channel-email = e-mail
channel-letter = courrier
channel-walk_in = accueil physique

# caller-type
caller-type-victim = victime
caller-type-parent = parent
caller-type-relative = proche
caller-type-professional = professionnel
caller-type-other = autre
caller-type-unknown = non précisé

# age-band
age-band-under_11 = moins de 11 ans
age-band-11_14 = 11–14 ans
age-band-15_17 = 15–17 ans
age-band-adult = 18 ans et plus
age-band-unknown = non précisé

# contact-outcome
contact-outcome-listened = écoute et conseils
contact-outcome-case_opened = dossier ouvert
contact-outcome-referred = orientation
contact-outcome-information = information
contact-outcome-silent = appel muet
contact-outcome-hoax = appel malveillant

# referral-state
referral-state-proposed = proposée
referral-state-consent_recorded = consentement recueilli
referral-state-sent = transmise
referral-state-acknowledged = prise en charge
referral-state-closed = clôturée
referral-state-declined = refusée par la personne
referral-state-cancelled = annulée

# consent-basis
consent-basis-victim = consentement de la victime
consent-basis-guardian = consentement du représentant légal
consent-basis-legal_obligation = obligation légale
consent-basis-vital_interest = intérêt vital

# item-status
item-status-online = en ligne
item-status-notified = signalé
item-status-removed = retiré
item-status-restricted = restreint
item-status-kept = maintenu

# notice-channel
notice-channel-coop = ROOST Coop (API)
notice-channel-rempart_api = API partenaire Rempart
notice-channel-http_json = envoi JSON signé
notice-channel-email = e-mail
notice-channel-portal = formulaire web

# service-kind
service-kind-police = police
service-kind-gendarmerie = gendarmerie
service-kind-pharos = Pharos
service-kind-child_protection = protection de l'enfance
service-kind-school_referent = référent scolaire
service-kind-lawyer = avocat
service-kind-victim_support = aide aux victimes
service-kind-hotline = hotline de signalement
service-kind-helpline = ligne d'écoute
service-kind-suicide_prevention = prévention du suicide
service-kind-data_protection = protection des données
service-kind-cyber_assistance = assistance cyber

# conversation-status
conversation-status-waiting = en attente
conversation-status-active = en cours
conversation-status-ended = terminée
conversation-status-left_message = message laissé (hors horaires)
conversation-status-left = parti·e (sortie rapide)

# sender
sender-visitor = jeune / parent
sender-counsellor = écoutant·e
sender-system = système
sender-note = note interne (invisible pour le jeune)

# risk-kind
risk-kind-suicidal_thoughts = idées suicidaires
risk-kind-blackmail_deadline = chantage avec échéance
risk-kind-imminent_publication = publication imminente

# content-type
content-type-post = publication
content-type-comment = commentaire
content-type-account = compte
content-type-message = message privé
content-type-image = image
content-type-video = vidéo
content-type-story = story
content-type-live = live (direct)
content-type-group = groupe, serveur ou canal
content-type-other = autre

# role
role-counsellor = écoutant·e
role-psychologist = psychologue
role-lawyer = juriste
role-digital_specialist = spécialiste numérique
role-supervisor = superviseur·e
role-admin = administrateur·rice
complaint-audience-family = la victime et sa famille
complaint-audience-police = la police ou la gendarmerie
referral-mail-queued = courriel en attente d’envoi
referral-mail-sent = courriel envoyé
referral-mail-failed = courriel non envoyé
