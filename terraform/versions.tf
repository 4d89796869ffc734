# Deployment of gcs-export: topics, subscriptions, functions, scheduler, Firestore, IAM.
# The resources arrive with the deployment issue; this pins the toolchain they will use.
terraform {
  required_version = ">= 1.6"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 8.0"
    }
  }
}
