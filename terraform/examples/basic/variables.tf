variable "project_id" {
  description = "Project of this deployment."
  type        = string
}

variable "region" {
  description = "Region of the deployment."
  type        = string
  default     = "us-central1"
}

variable "environment" {
  description = "Label of this deployment (staging, production)."
  type        = string
}

variable "source_prefix_templates" {
  description = "Where each account's data lie: gs://BUCKET/PREFIX/ with {accountId} for the account."
  type        = list(string)
}

variable "api_invokers" {
  description = "The platform's service account(s) that call the management API, as serviceAccount:EMAIL."
  type        = list(string)
}

variable "mail" {
  description = "Sender of the failure notices; sandbox = true in staging."
  type = object({
    from         = string
    from_name    = optional(string, "Data exports")
    sandbox      = optional(bool, false)
    api_base_url = optional(string)
    # The link in the notices to fix the integration; {accountId}, {exportId}, {destinationId} are filled in.
    dashboard_url = string
  })
}

variable "firestore" {
  description = "The Firestore database (create = false if the project already has it)."
  type = object({
    database_id = optional(string, "(default)")
    location_id = optional(string, "nam5")
    create      = optional(bool, true)
  })
  default = {}
}

variable "monitoring" {
  description = "Alert notification channels and thresholds."
  type = object({
    runbook_url                   = optional(string, "docs/OPERATIONS.md")
    notification_channels         = optional(list(string), [])
    oldest_unacked_age_seconds    = optional(number, 1800)
    failing_exports_per_hour      = optional(number, 10)
    dead_letter_backlog_threshold = optional(number, 0)
  })
  default = {}
}
