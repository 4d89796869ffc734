# The tables the resources are built from. test/unit/terraform/drift.test.ts reads them next to the code they mirror.

locals {
  labels = merge(var.labels, { app = "gcs-export" })

  # The platform's buckets that hold the sources: those of the prefix templates (read-only for the functions that read).
  source_buckets = distinct([for t in var.source_prefix_templates : regex("^gs://([^/]+)/", t)[0]])

  # What the platform's ID tokens must be minted for: the api function's URL, known before it exists.
  api_audience = "https://${var.region}-${var.project_id}.cloudfunctions.net/${local.functions.api.name}"

  # One entry per function registered in functions/index.ts. `topic` is the key (in local.topics) of the topic whose
  # push subscription feeds it; null for the HTTP function. `secrets` are the secret environment variables it mounts:
  # the key-encryption keys only where customers' keys are encrypted or decrypted (deadLetter never touches one).
  functions = {
    planExport = {
      name        = "gcs-export-plan-export"
      account     = "gcs-export-plan-export"
      push        = "gcs-export-push-plan-export"
      description = "Plans an export run and publishes one task per chunk."
      topic       = "requests"
      timeout     = 540
      ingress     = "ALLOW_INTERNAL_ONLY"
      secrets     = ["GCS_EXPORT_KEK", "GCS_EXPORT_KEK_PREVIOUS"]
    }
    writeChunk = {
      name        = "gcs-export-write-chunk"
      account     = "gcs-export-write-chunk"
      push        = "gcs-export-push-write-chunk"
      description = "Writes one chunk into the customer's bucket; the last one finalises the run."
      topic       = "chunks"
      timeout     = 540
      ingress     = "ALLOW_INTERNAL_ONLY"
      secrets     = ["GCS_EXPORT_KEK", "GCS_EXPORT_KEK_PREVIOUS"]
    }
    deadLetter = {
      name        = "gcs-export-dead-letter"
      account     = "gcs-export-dead-letter"
      push        = "gcs-export-push-dead-letter"
      description = "Fails the run of a chunk task or request that exhausted its deliveries."
      topic       = "dead_letter"
      timeout     = 540
      ingress     = "ALLOW_INTERNAL_ONLY"
      secrets     = []
    }
    checkFailures = {
      name        = "gcs-export-check-failures"
      account     = "gcs-export-check-failures"
      push        = "gcs-export-push-check-failures"
      description = "Hourly: probes failing exports' destinations again, resumes or notifies."
      topic       = "failure_check"
      timeout     = 540
      ingress     = "ALLOW_INTERNAL_ONLY"
      secrets     = ["GCS_EXPORT_KEK", "GCS_EXPORT_KEK_PREVIOUS", "SENDGRID_API_KEY"]
    }
    api = {
      name        = "gcs-export-api"
      account     = "gcs-export-api"
      push        = null
      description = "Management API: destinations, export status, resume."
      topic       = null
      timeout     = 60
      ingress     = "ALLOW_ALL"
      secrets     = ["GCS_EXPORT_KEK", "GCS_EXPORT_KEK_PREVIOUS"]
    }
  }

  # Where each secret environment variable comes from.
  secret_env = {
    GCS_EXPORT_KEK = { secret = var.secrets.kek_secret_id, version = var.secrets.kek_version }
    # Outside a rotation the current KEK again, which adds nothing: a KEK is found by its id.
    GCS_EXPORT_KEK_PREVIOUS = { secret = var.secrets.kek_secret_id, version = coalesce(var.secrets.kek_previous_version, var.secrets.kek_version) }
    SENDGRID_API_KEY        = { secret = var.secrets.sendgrid_secret_id, version = var.secrets.sendgrid_version }
  }

  # Every plain environment variable the functions get; shared/config.ts reads each of them.
  runtime_env = {
    GCS_EXPORT_ADAPTERS                 = "gcp"
    LOG_LEVEL                           = var.export_settings.log_level
    CHUNK_TARGET_BYTES                  = tostring(var.export_settings.chunk_target_bytes)
    MAX_PART_BYTES                      = tostring(var.export_settings.max_part_bytes)
    MAX_OPEN_PARTS                      = tostring(var.export_settings.max_open_parts)
    MAX_LINE_BYTES                      = tostring(var.export_settings.max_line_bytes)
    FINALISER_LEASE_SECONDS             = tostring(var.export_settings.finaliser_lease_seconds)
    MAX_DELIVERY_ATTEMPTS               = tostring(var.export_settings.max_delivery_attempts)
    STATE_RETENTION_DAYS                = tostring(var.export_settings.state_retention_days)
    EXPORT_REQUESTS_TOPIC               = google_pubsub_topic.this["requests"].name
    EXPORT_CHUNKS_TOPIC                 = google_pubsub_topic.this["chunks"].name
    EXPORT_DEAD_LETTER_TOPIC            = google_pubsub_topic.this["dead_letter"].name
    GOOGLE_CLOUD_PROJECT                = var.project_id
    FIRESTORE_DATABASE_ID               = var.firestore.database_id
    QUARANTINE_BUCKET                   = google_storage_bucket.quarantine.name
    SOURCE_PREFIX_TEMPLATE              = join(",", var.source_prefix_templates)
    API_ALLOWED_CALLERS                 = join(",", [for m in var.api_invokers : trimprefix(m, "serviceAccount:")])
    API_OPERATORS                       = join(",", [for m in var.api_operators : trimprefix(m, "serviceAccount:")])
    API_AUDIENCE                        = local.api_audience
    STORAGE_RESUMABLE_THRESHOLD_BYTES   = tostring(var.storage_settings.resumable_threshold_bytes)
    STORAGE_RESUMABLE_CHUNK_BYTES       = tostring(var.storage_settings.resumable_chunk_bytes)
    STORAGE_MAX_RETRIES                 = tostring(var.storage_settings.max_retries)
    STORAGE_MAX_RETRY_DELAY_SECONDS     = tostring(var.storage_settings.max_retry_delay_seconds)
    STORAGE_RETRY_TOTAL_TIMEOUT_SECONDS = tostring(var.storage_settings.retry_total_timeout_seconds)
    SENDGRID_SANDBOX                    = tostring(var.mail.sandbox)
    SENDGRID_API_BASE_URL               = var.mail.api_base_url == null ? "" : var.mail.api_base_url # "" is unset for shared/config.ts
    MAIL_FROM                           = var.mail.from
    MAIL_FROM_NAME                      = var.mail.from_name
    DASHBOARD_URL                       = var.mail.dashboard_url
    FAILURE_CHECK_TOPIC                 = google_pubsub_topic.this["failure_check"].name
    PRINCIPALS_PROJECTS                 = join(",", var.principals_projects)
    PRINCIPAL_CREATOR                   = length(google_service_account.principal_creator) > 0 ? google_service_account.principal_creator[0].email : ""
  }

  # What shared/config.ts reads but a deployment leaves unset, and why (the drift test wants every variable here or
  # above).
  env_left_unset = {
    GCS_EXPORT_DATA_DIR          = "the local adapters' data folder"
    LOCAL_CONCURRENCY            = "the in-process bus of local runs"
    NOTICE_2_AFTER_HOURS         = "the escalation policy's defaults (docs/ESCALATION.md): 48 h"
    STOP_AFTER_HOURS             = "the escalation policy's defaults: 72 h"
    STOP_AFTER_NOTICE_2_HOURS    = "the escalation policy's defaults: 24 h"
    RECOVERY_HOLD_HOURS          = "the escalation policy's defaults: 24 h"
    NOTICE_CLAIM_LEASE_MINUTES   = "the escalation policy's defaults: 90 min"
    MAIL_TIMEOUT_MS              = "the mail client's default: 10 s (docs/ESCALATION.md)"
    RUN_SWEEP_AFTER_MINUTES      = "the sweep's defaults: 60 min"
    RUN_STUCK_AFTER_HOURS        = "the sweep's defaults: 6 h"
    FAILURE_CHECK_PAGE_SIZE      = "the check's defaults: 100 exports a page"
    FAILURE_CHECK_CONCURRENCY    = "the check's defaults: 8 at a time"
    FAILURE_CHECK_BUDGET_SECONDS = "the check's defaults: 420 s, within the function's 540 s"
    FAILURE_CHECK_ACCEPTS_TIME   = "tests and the local demo only: the config refuses it with the Google Cloud adapters"
    FIRESTORE_EMULATOR_HOST      = "read by the Firestore client itself; only tests point it at an emulator"
    BLOCK_THREADS                = "defaults to one worker thread per vCPU beyond the first, which follows the function's cpu setting"
    API_ID_TOKEN_CERTS_URL       = "Google's own certificates for ID tokens; only emulated set-ups publish others"
    GCS_EXPORT_API_TOKEN         = "a shared bearer token for gcs-export serve and emulators; production verifies Google ID tokens"
    STORAGE_EMULATOR_HOST        = "read by the Storage client itself; only tests point it at an emulator"
    STORAGE_EMULATOR_TOKEN_URL   = "emulators only: where customers' keys exchange tokens instead of Google"
    WEBHOOK_ALLOW_LOOPBACK       = "tests only: webhooks to a receiver on loopback; the config refuses it with the Google Cloud adapters"
    IAM_EMULATOR_URL             = "emulators only: the IAM and IAM Credentials APIs of the test Cloud Storage server"
  }
}
