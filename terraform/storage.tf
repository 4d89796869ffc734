# The platform's buckets: quarantined source lines, and the functions' source bundles. Both uniform access, never
# public, and emptied by lifecycle rules.

resource "google_storage_bucket" "quarantine" {
  project                     = var.project_id
  name                        = var.quarantine.bucket_name == null ? "${var.project_id}-gcs-export-quarantine" : var.quarantine.bucket_name
  location                    = var.region
  labels                      = local.labels
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  depends_on = [google_project_service.this]

  lifecycle_rule {
    condition {
      age = var.quarantine.retention_days
    }
    action {
      type = "Delete"
    }
  }
}

resource "google_storage_bucket" "sources" {
  project                     = var.project_id
  name                        = "${var.project_id}-gcs-export-sources"
  location                    = var.region
  labels                      = local.labels
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  depends_on = [google_project_service.this]

  # Cloud Functions reads a bundle only while it builds; old ones are kept a while for rollbacks.
  lifecycle_rule {
    condition {
      age = 90
    }
    action {
      type = "Delete"
    }
  }
}
