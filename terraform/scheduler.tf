# The hourly failure check: Cloud Scheduler publishes to the failure-check topic as its own service account, through
# Pub/Sub's REST API, so that the check gets the same retries and dead-lettering as every other message.

resource "google_cloud_scheduler_job" "failure_check" {
  project     = var.project_id
  region      = var.region
  name        = "gcs-export-failure-check"
  description = "Fires checkFailures through the failure-check topic."
  schedule    = var.schedule.cron
  time_zone   = var.schedule.time_zone

  retry_config {
    retry_count          = 3
    min_backoff_duration = "30s"
  }

  http_target {
    http_method = "POST"
    uri         = "https://pubsub.googleapis.com/v1/${google_pubsub_topic.this["failure_check"].id}:publish"
    headers     = { "Content-Type" = "application/json" }
    # The check ignores the content, but a message without data never becomes a CloudEvent.
    body = base64encode(jsonencode({ messages = [{ data = base64encode(jsonencode({ check = "failures" })) }] }))
    oauth_token {
      service_account_email = google_service_account.scheduler.email
      scope                 = "https://www.googleapis.com/auth/pubsub"
    }
  }

  depends_on = [google_pubsub_topic_iam_member.scheduler]
}
