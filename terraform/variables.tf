variable "project_id" {
  description = "Google Cloud project that runs gcs-export."
  type        = string
}

variable "region" {
  description = "Region of the functions, topics and scheduler."
  type        = string
  default     = "us-central1"
}
