# The functions: one source bundle, uploaded under its content hash, built by Cloud Functions (its gcp-build script
# compiles the TypeScript), deployed once per entry point of functions/index.ts.

data "archive_file" "source" {
  type             = "zip"
  source_dir       = var.source_bundle.dir
  output_path      = "${path.root}/.terraform/gcs-export-source.zip"
  output_file_mode = "0644"
}

# The functions' images, in a repository of their own: the build account may push here and nowhere else. Old images
# are deleted; the newest of each function stay for rollbacks.
resource "google_artifact_registry_repository" "functions" {
  project       = var.project_id
  location      = var.region
  repository_id = "gcs-export-functions"
  description   = "Images of the gcs-export functions, built by Cloud Functions."
  format        = "DOCKER"
  labels        = local.labels

  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"
    condition {
      older_than = "2592000s"
    }
  }
  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = 5
    }
  }

  depends_on = [google_project_service.this]
}

resource "google_storage_bucket_object" "source" {
  # A new name for new content: the functions redeploy exactly when the code changed.
  name   = "gcs-export-${data.archive_file.source.output_sha256}.zip"
  bucket = google_storage_bucket.sources.name
  source = data.archive_file.source.output_path
}

resource "google_cloudfunctions2_function" "this" {
  for_each    = local.functions
  project     = var.project_id
  location    = var.region
  name        = each.value.name
  description = each.value.description
  labels      = local.labels

  build_config {
    runtime           = "nodejs22"
    entry_point       = each.key
    service_account   = google_service_account.build.id
    docker_repository = google_artifact_registry_repository.functions.id
    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    available_memory                 = var.functions[each.key].memory
    available_cpu                    = var.functions[each.key].cpu
    max_instance_request_concurrency = var.functions[each.key].concurrency
    min_instance_count               = var.functions[each.key].min_instances
    max_instance_count               = var.functions[each.key].max_instances
    timeout_seconds                  = each.value.timeout
    ingress_settings                 = each.value.ingress
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.function[each.key].email
    environment_variables            = local.runtime_env

    dynamic "secret_environment_variables" {
      for_each = toset(each.value.secrets)
      content {
        key        = secret_environment_variables.value
        project_id = var.project_id
        secret     = local.secret_env[secret_environment_variables.value].secret
        version    = local.secret_env[secret_environment_variables.value].version
      }
    }

    # Every outbound packet leaves through the VPC, so Cloud NAT's reserved addresses are the only public ones.
    direct_vpc_egress = "VPC_EGRESS_ALL_TRAFFIC"
    direct_vpc_network_interface {
      network    = google_compute_network.this.id
      subnetwork = google_compute_subnetwork.functions.id
      tags       = ["gcs-export"]
    }
  }

  depends_on = [
    google_project_service.this,
    google_project_iam_member.build_logs,
    google_storage_bucket_iam_member.build_reads_bundle,
    google_artifact_registry_repository_iam_member.build_pushes_images,
    google_secret_manager_secret_iam_member.function,
    google_compute_router_nat.this,
  ]
}
