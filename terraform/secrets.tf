# The secrets, created beforehand with their values (README, "Deploy"), so that no secret ever enters Terraform state.
# Each function can read only the secrets it mounts (local.functions[*].secrets).

data "google_secret_manager_secret" "this" {
  for_each  = local.secret_env
  project   = var.project_id
  secret_id = each.value.secret

  depends_on = [google_project_service.this]
}

locals {
  # One grant per function and secret: GCS_EXPORT_KEK and GCS_EXPORT_KEK_PREVIOUS are versions of one secret, and two
  # resources managing the same binding would remove it for each other.
  function_secrets = merge([
    for name, fn in local.functions : {
      for key in fn.secrets : "${name}/${local.secret_env[key].secret}" => { function = name, key = key }...
    }
  ]...)
}

resource "google_secret_manager_secret_iam_member" "function" {
  for_each  = local.function_secrets
  project   = var.project_id
  secret_id = data.google_secret_manager_secret.this[each.value[0].key].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.function[each.value[0].function].email}"
}
