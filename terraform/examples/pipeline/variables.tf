variable "project_id" {
  description = "The project Cloud Build runs in (the deployment's project)."
  type        = string
}

variable "region" {
  description = "Where the triggers live (the region of the Cloud Build repository connection)."
  type        = string
  default     = "us-central1"
}

variable "repository" {
  description = "The Cloud Build (2nd gen) repository of this code: projects/P/locations/L/connections/C/repositories/R."
  type        = string
  validation {
    condition     = can(regex("^projects/[^/]+/locations/[^/]+/connections/[^/]+/repositories/[^/]+$", var.repository))
    error_message = "repository is projects/P/locations/L/connections/C/repositories/R."
  }
}

variable "state_bucket" {
  description = "The bucket holding the deployment's Terraform state (the planner reads it)."
  type        = string
}

variable "deployer_service_account" {
  description = "E-mail of the service account that applies the deployment (roles: docs/OPERATIONS.md, \"The deployer\")."
  type        = string
}
