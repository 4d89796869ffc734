# Log-based metrics on the events of shared/domain/log-events.ts (jsonPayload.event), alert policies with their
# runbooks in docs/OPERATIONS.md, and the operations dashboard (dashboards/operations.json).

locals {
  log_filter_base = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=~\"^gcs-export-\""

  # One counter per event of the catalogue; `labels` are jsonPayload fields worth grouping by.
  event_metrics = {
    runs_planned           = { event = "runPlanned", labels = [] }
    chunks_written         = { event = "chunkWritten", labels = [] }
    chunks_blocked         = { event = "chunkBlocked", labels = ["code"] }
    runs_succeeded         = { event = "runSucceeded", labels = [] }
    runs_failed            = { event = "runFailed", labels = ["code"] }
    runs_stuck             = { event = "runStuck", labels = [] }
    runs_swept             = { event = "runSwept", labels = [] }
    runs_moved             = { event = "runMoved", labels = [] }
    runs_caught_up         = { event = "runsCaughtUp", labels = [] }
    documents_unreadable   = { event = "documentUnreadable", labels = [] }
    chunks_dead_lettered   = { event = "chunkDeadLettered", labels = [] }
    requests_dead_lettered = { event = "requestDeadLettered", labels = [] }
    messages_rejected      = { event = "messageRejected", labels = ["topic"] }
    exports_failing        = { event = "exportFailing", labels = ["code", "by"] }
    exports_recovered      = { event = "exportRecovered", labels = [] }
    exports_stopped        = { event = "exportStopped", labels = [] }
    notices_sent           = { event = "noticeSent", labels = ["notice"] }
    mail_failures          = { event = "mailFailed", labels = [] }
    notices_undelivered    = { event = "noticeUndelivered", labels = ["channel"] }
    keys_rewrapped         = { event = "keysRewrapped", labels = [] }
    api_callers_refused    = { event = "apiCallerRefused", labels = ["reason"] }
  }

  # Sums carried by an event's field, as distributions (a log-based counter only counts entries).
  value_metrics = {
    records_exported = { event = "chunkWritten", field = "records", unit = "1" }
    bytes_exported   = { event = "chunkWritten", field = "bytes", unit = "By" }
  }

  user_metric = "logging.googleapis.com/user"

  # Subscriptions whose backlog means messages wait for a function that is failing or down.
  source_subscriptions = ["requests", "chunks", "failure_check"]

  runbook = var.monitoring.runbook_url
}

resource "google_logging_metric" "events" {
  for_each    = local.event_metrics
  project     = var.project_id
  name        = "gcs_export/${each.key}"
  description = "Count of ${each.value.event} events."
  filter      = "${local.log_filter_base} AND jsonPayload.event=\"${each.value.event}\""

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
    dynamic "labels" {
      for_each = toset(each.value.labels)
      content {
        key        = labels.value
        value_type = "STRING"
      }
    }
  }

  label_extractors = { for label in each.value.labels : label => "EXTRACT(jsonPayload.${label})" }

  depends_on = [google_project_service.this]
}

resource "google_logging_metric" "values" {
  for_each        = local.value_metrics
  project         = var.project_id
  name            = "gcs_export/${each.key}"
  description     = "${each.value.field} of ${each.value.event} events."
  filter          = "${local.log_filter_base} AND jsonPayload.event=\"${each.value.event}\""
  value_extractor = "EXTRACT(jsonPayload.${each.value.field})"

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "DISTRIBUTION"
    unit        = each.value.unit
  }

  bucket_options {
    exponential_buckets {
      num_finite_buckets = 40
      growth_factor      = 2
      scale              = 1
    }
  }

  depends_on = [google_project_service.this]
}

# Cloud Monitoring refuses an alert policy on a log-based metric it cannot query yet (a 404 "Cannot find metric"
# for up to about ten minutes after the metric is created). The policies wait here on the first apply, and again
# whenever a metric is added or replaced (the triggers), so the whole module applies in one go.
resource "time_sleep" "metrics_propagated" {
  create_duration = var.monitoring.metric_propagation_wait
  triggers = {
    metrics = join(",", concat([for m in google_logging_metric.events : m.id], [for m in google_logging_metric.values : m.id]))
  }

  depends_on = [google_logging_metric.events, google_logging_metric.values]
}

# The alert policies: `events` are conditions on log-based metrics (a count above `threshold` in `period`),
# `subscriptions` conditions on Pub/Sub metrics of the named subscriptions held for `duration`.
locals {
  dead_letter_subscriptions = [google_pubsub_subscription.push["dead_letter"].name, google_pubsub_subscription.parked.name]
  waiting_subscriptions     = [for s in local.source_subscriptions : google_pubsub_subscription.push[s].name]

  alert_policies = {
    dead_letters = {
      title   = "dead letters"
      runbook = "dead-letters"
      events = {
        chunks_dead_lettered   = { title = "a chunk task was dead-lettered", threshold = 0, period = "300s" }
        requests_dead_lettered = { title = "an export request was dead-lettered", threshold = 0, period = "300s" }
      }
      subscriptions = {
        backlog = {
          title         = "dead letters waiting (dead-letter or parked subscription)"
          metric        = "num_undelivered_messages"
          subscriptions = local.dead_letter_subscriptions
          threshold     = var.monitoring.dead_letter_backlog_threshold
          duration      = "600s"
        }
      }
    }
    messages_waiting = {
      title   = "messages waiting too long"
      runbook = "messages-waiting-too-long"
      events  = {}
      subscriptions = {
        oldest_unacked = {
          title         = "oldest unacked message older than ${var.monitoring.oldest_unacked_age_seconds} s"
          metric        = "oldest_unacked_message_age"
          subscriptions = local.waiting_subscriptions
          threshold     = var.monitoring.oldest_unacked_age_seconds
          duration      = "300s"
        }
      }
    }
    failing_exports = {
      title   = "failing exports"
      runbook = "failing-exports"
      events = {
        exports_failing = { title = "too many failing-export findings in an hour", threshold = var.monitoring.failing_exports_per_hour, period = "3600s" }
        exports_stopped = { title = "an export was stopped", threshold = 0, period = "300s" }
      }
      subscriptions = {}
    }
    stuck_runs = {
      title         = "stuck runs"
      runbook       = "stuck-runs"
      events        = { runs_stuck = { title = "a run made no progress past its deadline", threshold = 0, period = "300s" } }
      subscriptions = {}
    }
    mail_failures = {
      title         = "failure notices not sent"
      runbook       = "mail-failures"
      events        = { mail_failures = { title = "a notice e-mail could not be sent", threshold = 0, period = "300s" } }
      subscriptions = {}
    }
  }
}

resource "google_monitoring_alert_policy" "this" {
  for_each              = local.alert_policies
  project               = var.project_id
  display_name          = "gcs-export: ${each.value.title}"
  combiner              = "OR"
  notification_channels = var.monitoring.notification_channels
  user_labels           = local.labels

  dynamic "conditions" {
    for_each = each.value.events
    content {
      display_name = conditions.value.title
      condition_threshold {
        filter          = "resource.type=\"cloud_run_revision\" AND metric.type=\"${local.user_metric}/${google_logging_metric.events[conditions.key].name}\""
        comparison      = "COMPARISON_GT"
        threshold_value = conditions.value.threshold
        duration        = "0s"
        aggregations {
          alignment_period     = conditions.value.period
          per_series_aligner   = "ALIGN_SUM"
          cross_series_reducer = "REDUCE_SUM"
        }
      }
    }
  }

  dynamic "conditions" {
    for_each = each.value.subscriptions
    content {
      display_name = conditions.value.title
      condition_threshold {
        filter          = "resource.type=\"pubsub_subscription\" AND metric.type=\"pubsub.googleapis.com/subscription/${conditions.value.metric}\" AND resource.labels.subscription_id=one_of(${join(", ", [for s in conditions.value.subscriptions : "\"${s}\""])})"
        comparison      = "COMPARISON_GT"
        threshold_value = conditions.value.threshold
        duration        = conditions.value.duration
        aggregations {
          alignment_period   = "60s"
          per_series_aligner = "ALIGN_MAX"
        }
      }
    }
  }

  documentation {
    content   = "Runbook: ${local.runbook}#${each.value.runbook}"
    mime_type = "text/markdown"
  }

  depends_on = [time_sleep.metrics_propagated]
}

resource "google_monitoring_dashboard" "operations" {
  project        = var.project_id
  dashboard_json = file("${path.module}/dashboards/operations.json")

  depends_on = [google_logging_metric.events, google_logging_metric.values]
}
