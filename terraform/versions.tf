# Toolchain of the gcs-export module. The lower bound of the Google provider is the release whose schema the module
# is checked against in npm test (test/unit/terraform/provider-schema.test.ts, extracted from the provider's source;
# docs/DEVELOPMENT.md says how to move it).
terraform {
  required_version = ">= 1.6"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 7.45, < 8.0"
    }
    # Only for google_project_service_identity (the Pub/Sub service agent), which the GA provider lacks.
    google-beta = {
      source  = "hashicorp/google-beta"
      version = ">= 7.45, < 8.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = ">= 2.4, < 3.0"
    }
    # time_sleep: alert policies wait for new log-based metrics to become queryable.
    time = {
      source  = "hashicorp/time"
      version = ">= 0.12, < 1.0"
    }
  }
}
