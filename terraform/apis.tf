# The Google APIs the deployment uses. Never disabled on destroy: other things in the project may use them too.

locals {
  apis = [
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudscheduler.googleapis.com",
    "compute.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ]
}

resource "google_project_service" "this" {
  for_each           = var.enable_apis ? toset(local.apis) : toset([])
  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

# The principals projects (destinations without a key): service accounts are created there (IAM API) and
# impersonated (IAM Credentials API).
resource "google_project_service" "principals" {
  for_each = var.enable_apis ? {
    for pair in setproduct(var.principals_projects, ["iam.googleapis.com", "iamcredentials.googleapis.com"]) :
    "${pair[0]}/${pair[1]}" => { project = pair[0], service = pair[1] }
  } : {}
  project            = each.value.project
  service            = each.value.service
  disable_on_destroy = false

  depends_on = [google_project_service.this]
}
