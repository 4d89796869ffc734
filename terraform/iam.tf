# Identities and least privilege: one service account per function with only the roles it needs, one OIDC identity
# per push subscription allowed to invoke exactly its function, the scheduler's own account, and the management API
# invokable only by the platform's service account(s). No primitive role and no public member anywhere.

locals {
  # What each function touches besides Firestore and its secrets: topics it publishes to (keys of local.topics),
  # whether it reads the platform's source buckets, and whether it writes quarantine files. The topics are derived
  # from the code (test/unit/terraform: every Bus.publish reachable from the function's handler): the planner, the
  # chunk writer (CSV/Parquet schema phase, a blocked run moved to the export's new destination), the dead-letter
  # handler (a run blocked and moved), the hourly check (sweep, resume, catch-up) and the API (resume, validate)
  # publish chunk tasks and re-plan requests. Destinations without a key (docs/ARCHITECTURE.md): the functions that
  # act in customers' buckets impersonate the accounts' principals; only the API creates them (a destination is saved
  # there), and then only as the principal-creator identity.
  function_access = {
    planExport    = { publishes = ["chunks", "requests"], reads_sources = true, writes_quarantine = false, impersonates_principals = true, creates_principals = false }
    writeChunk    = { publishes = ["chunks", "requests"], reads_sources = true, writes_quarantine = true, impersonates_principals = true, creates_principals = false }
    deadLetter    = { publishes = ["requests"], reads_sources = false, writes_quarantine = false, impersonates_principals = false, creates_principals = false }
    checkFailures = { publishes = ["chunks", "requests"], reads_sources = false, writes_quarantine = false, impersonates_principals = true, creates_principals = false }
    api           = { publishes = ["chunks", "requests"], reads_sources = false, writes_quarantine = false, impersonates_principals = true, creates_principals = true }
  }

  principal_impersonation_grants = merge([
    for name, access in local.function_access : {
      for project in var.principals_projects : "${name}/${project}" => { function = name, project = project }
    } if access.impersonates_principals
  ]...)

  publisher_grants = merge([
    for name, access in local.function_access : { for topic in access.publishes : "${name}/${topic}" => { function = name, topic = topic } }
  ]...)

  source_reader_grants = merge([
    for name, access in local.function_access : { for bucket in local.source_buckets : "${name}/${bucket}" => { function = name, bucket = bucket } } if access.reads_sources
  ]...)

  push_functions = { for name, fn in local.functions : name => fn if fn.push != null }
}

resource "google_service_account" "function" {
  for_each     = local.functions
  project      = var.project_id
  account_id   = each.value.account
  display_name = "gcs-export ${each.key} function"

  depends_on = [google_project_service.this]
}

resource "google_service_account" "push" {
  for_each     = local.push_functions
  project      = var.project_id
  account_id   = each.value.push
  display_name = "gcs-export push identity of ${each.key}"

  depends_on = [google_project_service.this]
}

# Builds the functions' images from the source bundle, with only what a build does: write its logs, read the bundle,
# push the image to the one repository the functions use (instead of a default account with broad project roles,
# or roles/cloudbuild.builds.builder on the whole project).
resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = "gcs-export-build"
  display_name = "gcs-export function builds"

  depends_on = [google_project_service.this]
}

resource "google_project_iam_member" "build_logs" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = "serviceAccount:${google_service_account.build.email}"
}

resource "google_storage_bucket_iam_member" "build_reads_bundle" {
  bucket = google_storage_bucket.sources.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.build.email}"
}

resource "google_artifact_registry_repository_iam_member" "build_pushes_images" {
  project    = var.project_id
  location   = google_artifact_registry_repository.functions.location
  repository = google_artifact_registry_repository.functions.name
  role       = "roles/artifactregistry.writer"
  member     = "serviceAccount:${google_service_account.build.email}"
}

resource "google_service_account" "scheduler" {
  project      = var.project_id
  account_id   = "gcs-export-scheduler"
  display_name = "gcs-export hourly failure check"

  depends_on = [google_project_service.this]
}

# Firestore documents, in this deployment's database only.
resource "google_project_iam_member" "firestore" {
  for_each = local.functions
  project  = var.project_id
  role     = "roles/datastore.user"
  member   = "serviceAccount:${google_service_account.function[each.key].email}"
  condition {
    title      = "gcs-export-database"
    expression = "resource.name == \"projects/${var.project_id}/databases/${var.firestore.database_id}\""
  }
}

resource "google_pubsub_topic_iam_member" "function_publisher" {
  for_each = local.publisher_grants
  project  = var.project_id
  topic    = google_pubsub_topic.this[each.value.topic].name
  role     = "roles/pubsub.publisher"
  member   = "serviceAccount:${google_service_account.function[each.value.function].email}"
}

resource "google_storage_bucket_iam_member" "source_reader" {
  for_each = local.source_reader_grants
  bucket   = each.value.bucket
  role     = "roles/storage.objectViewer"
  member   = "serviceAccount:${google_service_account.function[each.value.function].email}"
}

# A retried chunk replaces its quarantine file, and replacing an object needs delete as well as create.
resource "google_storage_bucket_iam_member" "quarantine_writer" {
  for_each = { for name, access in local.function_access : name => access if access.writes_quarantine }
  bucket   = google_storage_bucket.quarantine.name
  role     = "roles/storage.objectUser"
  member   = "serviceAccount:${google_service_account.function[each.key].email}"
}

# Each push identity may invoke its own function and nothing else.
resource "google_cloud_run_v2_service_iam_member" "push_invoker" {
  for_each = local.push_functions
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.this[each.key].name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.push[each.key].email}"

  # A replaced function is a new Cloud Run service with an empty IAM policy: bind again in the same apply.
  lifecycle {
    replace_triggered_by = [google_cloudfunctions2_function.this[each.key].id]
  }
}

# Pub/Sub's service agent signs the OIDC tokens of the push identities.
resource "google_service_account_iam_member" "push_token_creator" {
  for_each           = local.push_functions
  service_account_id = google_service_account.push[each.key].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent
}

resource "google_cloud_run_v2_service_iam_member" "api_invoker" {
  for_each = toset(concat(var.api_invokers, var.api_operators))
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.this["api"].name
  role     = "roles/run.invoker"
  member   = each.value

  lifecycle {
    replace_triggered_by = [google_cloudfunctions2_function.this["api"].id]
  }
}

resource "google_pubsub_topic_iam_member" "scheduler" {
  project = var.project_id
  topic   = google_pubsub_topic.this["failure_check"].name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${google_service_account.scheduler.email}"
}

# Destinations without a key (docs/ARCHITECTURE.md, "Destinations without a key"). One service account per customer
# account lives in the principals projects, which hold nothing else.

# The one identity that may create those service accounts, and nothing else: roles/iam.serviceAccountCreator on the
# principals projects only. No function holds that role; the functions that create principals act as this identity.
resource "google_service_account" "principal_creator" {
  count        = length(var.principals_projects) > 0 ? 1 : 0
  project      = var.project_id
  account_id   = "gcs-export-principal-creator"
  display_name = "gcs-export creates account principals (nothing else)"

  depends_on = [google_project_service.this]
}

resource "google_project_iam_member" "principal_creator" {
  for_each = toset(var.principals_projects)
  project  = each.value
  role     = "roles/iam.serviceAccountCreator"
  member   = "serviceAccount:${google_service_account.principal_creator[0].email}"
}

resource "google_service_account_iam_member" "principal_creator_user" {
  for_each           = length(var.principals_projects) > 0 ? { for name, access in local.function_access : name => access if access.creates_principals } : {}
  service_account_id = google_service_account.principal_creator[0].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${google_service_account.function[each.key].email}"
}

# The functions that act in customers' buckets mint short-lived tokens of the account principals: token creator on
# the principals projects only, which contain nothing but principals (never on the deployment's project).
resource "google_project_iam_member" "principal_impersonation" {
  for_each = local.principal_impersonation_grants
  project  = each.value.project
  role     = "roles/iam.serviceAccountTokenCreator"
  member   = "serviceAccount:${google_service_account.function[each.value.function].email}"
}
