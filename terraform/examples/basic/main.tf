# An example root: one gcs-export deployment in one project. Credentials come from impersonating the deployer
# service account (GOOGLE_IMPERSONATE_SERVICE_ACCOUNT), never from a key file.

provider "google" {
  project = var.project_id
  region  = var.region
}

provider "google-beta" {
  project = var.project_id
  region  = var.region
}

module "gcs_export" {
  source = "../.."

  project_id              = var.project_id
  region                  = var.region
  source_bundle           = { dir = "${path.root}/../../../.bundle/source" }
  source_prefix_templates = var.source_prefix_templates
  api_invokers            = var.api_invokers
  mail                    = var.mail
  firestore               = var.firestore
  monitoring              = var.monitoring
  labels                  = { env = var.environment }
}
