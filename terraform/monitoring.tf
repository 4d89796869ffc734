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
    chunks_dead_lettered   = { event = "chunkDeadLettered", labels = [] }
    requests_dead_lettered = { event = "requestDeadLettered", labels = [] }
    messages_rejected      = { event = "messageRejected", labels = ["topic"] }
    exports_failing        = { event = "exportFailing", labels = ["code", "by"] }
    exports_recovered      = { event = "exportRecovered", labels = [] }
    exports_stopped        = { event = "exportStopped", labels = [] }
    notices_sent           = { event = "noticeSent", labels = ["notice"] }
    mail_failures          = { event = "mailFailed", labels = [] }
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
}

resource "google_monitoring_alert_policy" "dead_letters" {
  project               = var.project_id
  display_name          = "gcs-export: dead letters"
  combiner              = "OR"
  notification_channels = var.monitoring.notification_channels
  user_labels           = local.labels

  conditions {
    display_name = "a chunk task or request was dead-lettered"
    condition_threshold {
      filter          = "resource.type=\"cloud_run_revision\" AND metric.type=\"${local.user_metric}/${google_logging_metric.events["chunks_dead_lettered"].name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_SUM"
      }
    }
  }

  conditions {
    display_name = "an export request was dead-lettered"
    condition_threshold {
      filter          = "resource.type=\"cloud_run_revision\" AND metric.type=\"${local.user_metric}/${google_logging_metric.events["requests_dead_lettered"].name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_SUM"
      }
    }
  }

  conditions {
    display_name = "dead letters waiting (dead-letter or parked subscription)"
    condition_threshold {
      filter          = "resource.type=\"pubsub_subscription\" AND metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND (resource.labels.subscription_id=\"${google_pubsub_subscription.push["dead_letter"].name}\" OR resource.labels.subscription_id=\"${google_pubsub_subscription.parked.name}\")"
      comparison      = "COMPARISON_GT"
      threshold_value = var.monitoring.dead_letter_backlog_threshold
      duration        = "600s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    content   = "Runbook: ${local.runbook}#dead-letters"
    mime_type = "text/markdown"
  }
}

resource "google_monitoring_alert_policy" "oldest_unacked" {
  project               = var.project_id
  display_name          = "gcs-export: messages waiting too long"
  combiner              = "OR"
  notification_channels = var.monitoring.notification_channels
  user_labels           = local.labels

  conditions {
    display_name = "oldest unacked message older than ${var.monitoring.oldest_unacked_age_seconds} s"
    condition_threshold {
      filter          = "resource.type=\"pubsub_subscription\" AND metric.type=\"pubsub.googleapis.com/subscription/oldest_unacked_message_age\" AND resource.labels.subscription_id=one_of(${join(", ", [for s in local.source_subscriptions : "\"${google_pubsub_subscription.push[s].name}\""])})"
      comparison      = "COMPARISON_GT"
      threshold_value = var.monitoring.oldest_unacked_age_seconds
      duration        = "300s"
      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    content   = "Runbook: ${local.runbook}#messages-waiting-too-long"
    mime_type = "text/markdown"
  }
}

resource "google_monitoring_alert_policy" "failing_exports" {
  project               = var.project_id
  display_name          = "gcs-export: failing exports"
  combiner              = "OR"
  notification_channels = var.monitoring.notification_channels
  user_labels           = local.labels

  conditions {
    display_name = "more than ${var.monitoring.failing_exports_per_hour} failing-export findings in an hour"
    condition_threshold {
      filter          = "resource.type=\"cloud_run_revision\" AND metric.type=\"${local.user_metric}/${google_logging_metric.events["exports_failing"].name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.monitoring.failing_exports_per_hour
      duration        = "0s"
      aggregations {
        alignment_period     = "3600s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  conditions {
    display_name = "an export was stopped"
    condition_threshold {
      filter          = "resource.type=\"cloud_run_revision\" AND metric.type=\"${local.user_metric}/${google_logging_metric.events["exports_stopped"].name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_SUM"
      }
    }
  }

  documentation {
    content   = "Runbook: ${local.runbook}#failing-exports"
    mime_type = "text/markdown"
  }
}

resource "google_monitoring_alert_policy" "stuck_runs" {
  project               = var.project_id
  display_name          = "gcs-export: stuck runs"
  combiner              = "OR"
  notification_channels = var.monitoring.notification_channels
  user_labels           = local.labels

  conditions {
    display_name = "a run made no progress past its deadline"
    condition_threshold {
      filter          = "resource.type=\"cloud_run_revision\" AND metric.type=\"${local.user_metric}/${google_logging_metric.events["runs_stuck"].name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_SUM"
      }
    }
  }

  documentation {
    content   = "Runbook: ${local.runbook}#stuck-runs"
    mime_type = "text/markdown"
  }
}

resource "google_monitoring_alert_policy" "mail_failures" {
  project               = var.project_id
  display_name          = "gcs-export: failure notices not sent"
  combiner              = "OR"
  notification_channels = var.monitoring.notification_channels
  user_labels           = local.labels

  conditions {
    display_name = "a notice e-mail could not be sent"
    condition_threshold {
      filter          = "resource.type=\"cloud_run_revision\" AND metric.type=\"${local.user_metric}/${google_logging_metric.events["mail_failures"].name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_SUM"
      }
    }
  }

  documentation {
    content   = "Runbook: ${local.runbook}#mail-failures"
    mime_type = "text/markdown"
  }
}

resource "google_monitoring_dashboard" "operations" {
  project        = var.project_id
  dashboard_json = file("${path.module}/dashboards/operations.json")

  depends_on = [google_logging_metric.events, google_logging_metric.values]
}
