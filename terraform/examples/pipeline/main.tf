# The delivery pipeline of gcs-export: two Cloud Build triggers on cloudbuild.yaml, each running as its own account.
#
#   branches (every branch but main): lint, tests, the bundle and a plan, as the read-only planner. Nothing a branch
#     edits can apply: its build account may impersonate the planner and nothing else, whatever its YAML says.
#   main: the same, then the apply of exactly the saved plan as the deployer, after a person approves the build.
#
# Apply this root once, as a project owner, before the first push (README, "Deploy").

provider "google" {
  project = var.project_id
  region  = var.region
}

locals {
  build = {
    branches = { account = "gcs-export-ci-branches", impersonates = google_service_account.planner.email }
    main     = { account = "gcs-export-ci-main", impersonates = var.deployer_service_account }
  }
}

# Plans with read access only: it reads every resource and its IAM policy, and the state (the plan takes no lock).
resource "google_service_account" "planner" {
  project      = var.project_id
  account_id   = "gcs-export-planner"
  display_name = "gcs-export read-only planner"
}

resource "google_project_iam_member" "planner" {
  for_each = toset(["roles/viewer", "roles/iam.securityReviewer"])
  project  = var.project_id
  role     = each.value
  member   = "serviceAccount:${google_service_account.planner.email}"
}

resource "google_storage_bucket_iam_member" "planner_reads_state" {
  bucket = var.state_bucket
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.planner.email}"
}

# The builds' own accounts: they write their logs and impersonate one Terraform identity each; no other role.
resource "google_service_account" "build" {
  for_each     = local.build
  project      = var.project_id
  account_id   = each.value.account
  display_name = "gcs-export Cloud Build (${each.key})"
}

resource "google_project_iam_member" "build_logs" {
  for_each = local.build
  project  = var.project_id
  role     = "roles/logging.logWriter"
  member   = "serviceAccount:${google_service_account.build[each.key].email}"
}

resource "google_service_account_iam_member" "build_impersonates" {
  for_each           = local.build
  service_account_id = "projects/${var.project_id}/serviceAccounts/${each.value.impersonates}"
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${google_service_account.build[each.key].email}"
}

resource "google_cloudbuild_trigger" "branches" {
  project         = var.project_id
  location        = var.region
  name            = "gcs-export-branches"
  description     = "Lint, tests and a read-only plan of every branch but main."
  filename        = "cloudbuild.yaml"
  service_account = google_service_account.build["branches"].id

  repository_event_config {
    repository = var.repository
    push {
      branch       = "^main$"
      invert_regex = true
    }
  }

  substitutions = {
    _TF_SA           = google_service_account.planner.email
    _TF_LOCK         = "false"
    _APPLY           = "false"
    _TF_STATE_BUCKET = var.state_bucket
  }
}

resource "google_cloudbuild_trigger" "main" {
  project         = var.project_id
  location        = var.region
  name            = "gcs-export-main"
  description     = "Lint, tests, plan, and after approval the apply of that plan, for main."
  filename        = "cloudbuild.yaml"
  service_account = google_service_account.build["main"].id

  repository_event_config {
    repository = var.repository
    push {
      branch = "^main$"
    }
  }

  approval_config {
    approval_required = true
  }

  substitutions = {
    _TF_SA           = var.deployer_service_account
    _TF_LOCK         = "true"
    _APPLY           = "true"
    _TF_STATE_BUCKET = var.state_bucket
  }
}
