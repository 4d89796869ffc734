terraform {
  required_version = ">= 1.6"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 7.45, < 8.0"
    }
  }
  # State in a Cloud Storage bucket of the operator's: terraform init -backend-config="bucket=BUCKET".
  backend "gcs" {
    prefix = "gcs-export-pipeline"
  }
}
