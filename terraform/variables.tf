# Inputs of the gcs-export module. Bounds repeat shared/config.ts's (the drift test compares them), so a bad value
# fails at plan time instead of at the functions' cold start.

variable "project_id" {
  description = "Google Cloud project that runs gcs-export (one deployment per project)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a valid project id."
  }
}

variable "region" {
  description = "Region of the functions, topics' subscriptions, scheduler, subnet, NAT and quarantine bucket."
  type        = string
  default     = "us-central1"
}

variable "labels" {
  description = "Labels added to every resource that takes labels."
  type        = map(string)
  default     = {}
}

variable "enable_apis" {
  description = "Enable the Google APIs the deployment uses (they are never disabled on destroy)."
  type        = bool
  default     = true
}

variable "source_bundle" {
  description = "The staged function source (`npm run bundle` writes it to .bundle/source); zipped and uploaded under its content hash."
  type = object({
    dir = string
  })
}

variable "source_prefix_templates" {
  description = "Where each account's event and profile data lie, as gs://BUCKET/PREFIX/ with {accountId} standing for the account (SOURCE_PREFIX_TEMPLATE): a request may read only under its own account's prefixes. Their buckets are what planExport and writeChunk may read."
  type        = list(string)
  validation {
    condition = length(var.source_prefix_templates) > 0 && alltrue([
      for t in var.source_prefix_templates : can(regex("^gs://[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]/([^/]+/)*$", t)) && !strcontains(t, ",")
    ])
    error_message = "source_prefix_templates must be gs://BUCKET/PREFIX/ (ending with \"/\", no comma), e.g. gs://platform-events/accounts/{accountId}/."
  }
}

variable "api_invokers" {
  description = "Members allowed to call the management API: the platform's service account(s), as serviceAccount:EMAIL."
  type        = list(string)
  validation {
    condition     = length(var.api_invokers) > 0 && alltrue([for m in var.api_invokers : startswith(m, "serviceAccount:")])
    error_message = "api_invokers must be service accounts (serviceAccount:EMAIL); allUsers and allAuthenticatedUsers are refused."
  }
}

variable "api_operators" {
  description = "Members allowed to call the management API's admin routes (key re-wrap), as serviceAccount:EMAIL (API_OPERATORS)."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for m in var.api_operators : startswith(m, "serviceAccount:")])
    error_message = "api_operators must be service accounts (serviceAccount:EMAIL)."
  }
}

variable "principals_projects" {
  description = "Projects that hold the accounts' principals (destinations without a key, docs/ARCHITECTURE.md): one service account per customer account, nothing else. Empty: grant destinations are refused. Each holds 100 service accounts by default; add projects (new accounts are spread by hash) or raise the quota."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for p in var.principals_projects : can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", p))])
    error_message = "principals_projects must be project ids."
  }
}

variable "export_settings" {
  description = "How exports are cut and retried: CHUNK_TARGET_BYTES, MAX_PART_BYTES, MAX_OPEN_PARTS, MAX_LINE_BYTES, FINALISER_LEASE_SECONDS, MAX_DELIVERY_ATTEMPTS, STATE_RETENTION_DAYS, LOG_LEVEL."
  type = object({
    chunk_target_bytes      = optional(number, 104857600)
    max_part_bytes          = optional(number, 104857600)
    max_open_parts          = optional(number, 128)
    max_line_bytes          = optional(number, 8388608)
    finaliser_lease_seconds = optional(number, 120)
    max_delivery_attempts   = optional(number, 5)
    state_retention_days    = optional(number, 90)
    log_level               = optional(string, "info")
  })
  default = {}
  validation {
    condition     = var.export_settings.chunk_target_bytes >= 65536 && var.export_settings.max_part_bytes >= 65536
    error_message = "chunk_target_bytes and max_part_bytes must be at least 65536 (64 KiB)."
  }
  validation {
    condition     = var.export_settings.max_open_parts >= 1 && var.export_settings.max_open_parts <= 1024
    error_message = "max_open_parts must be between 1 and 1024."
  }
  validation {
    condition     = var.export_settings.max_line_bytes >= 1024
    error_message = "max_line_bytes must be at least 1024."
  }
  validation {
    condition     = var.export_settings.finaliser_lease_seconds >= 10
    error_message = "finaliser_lease_seconds must be at least 10."
  }
  validation {
    condition     = var.export_settings.max_delivery_attempts >= 5 && var.export_settings.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be between 5 and 100 (Pub/Sub's dead-letter bounds)."
  }
  validation {
    condition     = var.export_settings.state_retention_days >= 7 && var.export_settings.state_retention_days <= 3650
    error_message = "state_retention_days must be between 7 and 3650."
  }
  validation {
    condition     = contains(["debug", "info"], var.export_settings.log_level)
    error_message = "log_level must be debug or info: the log-based metrics and alerts count info events."
  }
}

variable "storage_settings" {
  description = "The Cloud Storage client: STORAGE_RESUMABLE_THRESHOLD_BYTES, STORAGE_RESUMABLE_CHUNK_BYTES, STORAGE_MAX_RETRIES, STORAGE_MAX_RETRY_DELAY_SECONDS, STORAGE_RETRY_TOTAL_TIMEOUT_SECONDS."
  type = object({
    resumable_threshold_bytes   = optional(number, 2097152)
    resumable_chunk_bytes       = optional(number, 2097152)
    max_retries                 = optional(number, 5)
    max_retry_delay_seconds     = optional(number, 32)
    retry_total_timeout_seconds = optional(number, 300)
  })
  default = {}
  validation {
    condition     = var.storage_settings.resumable_threshold_bytes >= 65536
    error_message = "resumable_threshold_bytes must be at least 65536."
  }
  validation {
    condition     = var.storage_settings.resumable_chunk_bytes >= 262144 && var.storage_settings.resumable_chunk_bytes % 262144 == 0
    error_message = "resumable_chunk_bytes must be a multiple of 262144 (256 KiB), as Cloud Storage requires."
  }
  validation {
    condition     = var.storage_settings.max_retries >= 0 && var.storage_settings.max_retries <= 20
    error_message = "max_retries must be between 0 and 20."
  }
  validation {
    condition     = var.storage_settings.max_retry_delay_seconds >= 1 && var.storage_settings.retry_total_timeout_seconds >= 1
    error_message = "max_retry_delay_seconds and retry_total_timeout_seconds must be at least 1."
  }
}

variable "topics" {
  description = "Pub/Sub topic names: EXPORT_REQUESTS_TOPIC, EXPORT_CHUNKS_TOPIC, EXPORT_DEAD_LETTER_TOPIC, the hourly check's topic, and where messages the dead-letter function cannot settle are parked."
  type = object({
    requests      = optional(string, "export-requests")
    chunks        = optional(string, "export-chunks")
    dead_letter   = optional(string, "export-dead-letter")
    failure_check = optional(string, "failure-check")
    parked        = optional(string, "export-dead-letter-parked")
  })
  default = {}
  validation {
    condition     = alltrue([for name in values(var.topics) : can(regex("^[A-Za-z][\\w.~%+-]{2,254}$", name))])
    error_message = "Topic names must start with a letter and be 3 to 255 characters of letters, digits and - _ . ~ + %."
  }
}

variable "pubsub" {
  description = "Push delivery: retry backoff, ack deadline (above the 540 s function timeout) and retention of parked dead letters."
  type = object({
    minimum_backoff      = optional(string, "10s")
    maximum_backoff      = optional(string, "600s")
    ack_deadline_seconds = optional(number, 600)
    parked_retention     = optional(string, "604800s")
  })
  default = {}
  validation {
    condition     = var.pubsub.ack_deadline_seconds >= 540 && var.pubsub.ack_deadline_seconds <= 600
    error_message = "ack_deadline_seconds must be between 540 (the event functions' timeout) and 600 (Pub/Sub's maximum)."
  }
}

variable "functions" {
  description = "Size and scaling of each function (the keys are the entry points in functions/index.ts)."
  type = object({
    planExport = optional(object({
      memory        = optional(string, "1Gi")
      cpu           = optional(string, "1")
      concurrency   = optional(number, 1)
      min_instances = optional(number, 0)
      max_instances = optional(number, 10)
    }), {})
    writeChunk = optional(object({
      memory        = optional(string, "1Gi")
      cpu           = optional(string, "1")
      concurrency   = optional(number, 1)
      min_instances = optional(number, 0)
      max_instances = optional(number, 50)
    }), {})
    deadLetter = optional(object({
      memory        = optional(string, "512Mi")
      cpu           = optional(string, "1")
      concurrency   = optional(number, 4)
      min_instances = optional(number, 0)
      max_instances = optional(number, 5)
    }), {})
    checkFailures = optional(object({
      memory        = optional(string, "512Mi")
      cpu           = optional(string, "1")
      concurrency   = optional(number, 1)
      min_instances = optional(number, 0)
      max_instances = optional(number, 1)
    }), {})
    api = optional(object({
      memory        = optional(string, "512Mi")
      cpu           = optional(string, "1")
      concurrency   = optional(number, 20)
      min_instances = optional(number, 0)
      max_instances = optional(number, 10)
    }), {})
  })
  default = {}
  validation {
    condition     = alltrue([for f in values(var.functions) : f.min_instances >= 0 && f.max_instances >= f.min_instances && f.concurrency >= 1 && f.concurrency <= 1000])
    error_message = "Each function needs 0 <= min_instances <= max_instances and a concurrency between 1 and 1000."
  }
}

variable "secrets" {
  description = "Secret Manager secrets, created beforehand with their values (which so never enter Terraform state): the key-encryption key (base64 of 32 bytes) and the SendGrid API key, with the versions to mount; during a KEK rotation, the version holding the previous KEK."
  type = object({
    kek_secret_id = optional(string, "gcs-export-kek")
    kek_version   = optional(string, "latest")
    # During a key-encryption key rotation: the version of the same secret that holds the previous KEK, accepted for
    # decryption until `keys rewrap` has run (docs/OPERATIONS.md). Otherwise null, which mounts kek_version again.
    kek_previous_version = optional(string)
    sendgrid_secret_id   = optional(string, "gcs-export-sendgrid-api-key")
    sendgrid_version     = optional(string, "latest")
  })
  default = {}
}

variable "mail" {
  description = "Sender of the failure notices (MAIL_FROM, MAIL_FROM_NAME), SendGrid's sandbox for staging (SENDGRID_SANDBOX), its API base URL (SENDGRID_API_BASE_URL; null for SendGrid's global one) and the link in the notices to fix the integration (DASHBOARD_URL, a template with {accountId}, {exportId}, {destinationId})."
  type = object({
    from          = string
    from_name     = optional(string, "Data exports")
    sandbox       = optional(bool, false)
    api_base_url  = optional(string)
    dashboard_url = string
  })
  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.mail.from))
    error_message = "mail.from must be an e-mail address."
  }
  validation {
    condition     = can(regex("^https?://", var.mail.dashboard_url))
    error_message = "mail.dashboard_url must be an http(s) URL template."
  }
}

variable "firestore" {
  description = "The Firestore database (FIRESTORE_DATABASE_ID). Set create = false when the project's database already exists."
  type = object({
    database_id = optional(string, "(default)")
    location_id = optional(string, "nam5")
    create      = optional(bool, true)
  })
  default = {}
}

variable "quarantine" {
  description = "The platform's bucket for quarantined source lines (QUARANTINE_BUCKET): name (null: PROJECT-gcs-export-quarantine) and days kept."
  type = object({
    bucket_name    = optional(string)
    retention_days = optional(number, 30)
  })
  default = {}
  validation {
    condition     = var.quarantine.retention_days >= 1
    error_message = "quarantine.retention_days must be at least 1."
  }
}

variable "network" {
  description = "Direct VPC egress: the subnet the functions take addresses from (at least a /26, and two addresses per instance at every function's max_instances: the default /24 holds 252 for the default 76 instances) and how many reserved static addresses Cloud NAT uses."
  type = object({
    subnet_cidr     = optional(string, "10.8.0.0/24")
    egress_ip_count = optional(number, 2)
  })
  default = {}
  validation {
    condition     = can(cidrhost(var.network.subnet_cidr, 0)) && try(tonumber(split("/", var.network.subnet_cidr)[1]) <= 26, false)
    error_message = "network.subnet_cidr must be an IPv4 range of at least /26 (Direct VPC egress needs the addresses)."
  }
  validation {
    condition     = var.network.egress_ip_count >= 1 && var.network.egress_ip_count <= 8
    error_message = "network.egress_ip_count must be between 1 and 8."
  }
}

variable "schedule" {
  description = "The failure check's Cloud Scheduler job."
  type = object({
    cron      = optional(string, "0 * * * *")
    time_zone = optional(string, "Etc/UTC")
  })
  default = {}
}

variable "monitoring" {
  description = "Alerting: notification channel ids, where the runbooks are (docs/OPERATIONS.md as your team reads it), the oldest-unacked-message age that alerts, how many failing-export findings per hour alert, the dead-letter backlog tolerated, and how long alert policies wait for new log-based metrics to become queryable (first apply, or a metric added)."
  type = object({
    runbook_url                   = optional(string, "docs/OPERATIONS.md")
    notification_channels         = optional(list(string), [])
    oldest_unacked_age_seconds    = optional(number, 1800)
    failing_exports_per_hour      = optional(number, 10)
    dead_letter_backlog_threshold = optional(number, 0)
    metric_propagation_wait       = optional(string, "600s")
  })
  default = {}
  validation {
    condition     = can(regex("^[0-9]+[sm]$", var.monitoring.metric_propagation_wait))
    error_message = "metric_propagation_wait is a duration such as 600s or 10m."
  }
}
