# Toolchain of the gcs-export module. service_config.direct_vpc_* of google_cloudfunctions2_function reached the
# GA provider in February 2026 (7.21 is taken as the first release with it; not verified here, no terraform).
terraform {
  required_version = ">= 1.6"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 7.21, < 8.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = ">= 2.4, < 3.0"
    }
  }
}
