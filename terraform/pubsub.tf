# Topics and the push subscriptions that feed the functions. Explicit subscriptions (not Eventarc's) so that each
# carries a retry policy with backoff and a dead-letter policy, which a gen2 trigger's managed subscription cannot.

locals {
  # Keys are how the rest of the module names a topic; values its name in Pub/Sub.
  topics = {
    requests      = var.topics.requests
    chunks        = var.topics.chunks
    dead_letter   = var.topics.dead_letter
    failure_check = var.topics.failure_check
    parked        = var.topics.parked
  }

  # One push subscription per Pub/Sub-fed function. Chunk tasks, requests and checks that exhaust their deliveries
  # go to the dead-letter topic (the check straight to the parked topic: the deadLetter function has nothing to fail
  # for it); dead letters the deadLetter function cannot settle are parked for an operator.
  push_subscriptions = {
    requests      = { function = "planExport", dead_letter = "dead_letter" }
    chunks        = { function = "writeChunk", dead_letter = "dead_letter" }
    dead_letter   = { function = "deadLetter", dead_letter = "parked" }
    failure_check = { function = "checkFailures", dead_letter = "parked" }
  }

  pubsub_service_agent = google_project_service_identity.pubsub.member
}

# Pub/Sub's service agent signs push tokens and forwards dead letters. In a new project it may not exist until
# something asks for it; granting roles to it before then fails. This creates it (only google-beta can).
resource "google_project_service_identity" "pubsub" {
  provider = google-beta
  project  = var.project_id
  service  = "pubsub.googleapis.com"

  depends_on = [google_project_service.this]
}

resource "google_pubsub_topic" "this" {
  for_each = local.topics
  project  = var.project_id
  name     = each.value
  labels   = local.labels

  depends_on = [google_project_service.this]
}

resource "google_pubsub_subscription" "push" {
  for_each             = local.push_subscriptions
  project              = var.project_id
  name                 = "${google_pubsub_topic.this[each.key].name}-push"
  topic                = google_pubsub_topic.this[each.key].id
  labels               = local.labels
  ack_deadline_seconds = var.pubsub.ack_deadline_seconds

  push_config {
    # The /projects/P/topics/T path lets the Functions Framework put the topic into the CloudEvent's source.
    push_endpoint = "${google_cloudfunctions2_function.this[each.value.function].service_config[0].uri}/projects/${var.project_id}/topics/${google_pubsub_topic.this[each.key].name}"
    oidc_token {
      service_account_email = google_service_account.push[each.value.function].email
      audience              = google_cloudfunctions2_function.this[each.value.function].service_config[0].uri
    }
  }

  retry_policy {
    minimum_backoff = var.pubsub.minimum_backoff
    maximum_backoff = var.pubsub.maximum_backoff
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.this[each.value.dead_letter].id
    max_delivery_attempts = var.export_settings.max_delivery_attempts
  }

  expiration_policy {
    ttl = ""
  }
}

# Parked dead letters wait here, pulled by an operator (docs/OPERATIONS.md, "Dead letters").
resource "google_pubsub_subscription" "parked" {
  project                    = var.project_id
  name                       = "${google_pubsub_topic.this["parked"].name}-pull"
  topic                      = google_pubsub_topic.this["parked"].id
  labels                     = local.labels
  message_retention_duration = var.pubsub.parked_retention

  expiration_policy {
    ttl = ""
  }
}

# Pub/Sub's service agent forwards dead letters: it publishes to the dead-letter targets and acks the source.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = toset(distinct([for s in local.push_subscriptions : s.dead_letter]))
  project  = var.project_id
  topic    = google_pubsub_topic.this[each.key].name
  role     = "roles/pubsub.publisher"
  member   = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each     = local.push_subscriptions
  project      = var.project_id
  subscription = google_pubsub_subscription.push[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}
