# The deployment's settings: edit and commit. Cloud Build plans with this file (-var-file, _TF_VARS_FILE), so every
# variable without a default is set here and the plan never prompts. No secret goes here: the key-encryption key and
# the SendGrid API key live in Secret Manager (README, "Deploy").
project_id   = "acme-exports-prod"
region       = "us-central1"
environment  = "production"
api_invokers = ["serviceAccount:platform-backend@acme-platform.iam.gserviceaccount.com"]

# Each account's data; a request may read only under its own account's prefixes.
source_prefix_templates = [
  "gs://acme-analytics-events/accounts/{accountId}/",
  "gs://acme-analytics-profiles/accounts/{accountId}/",
]

mail = {
  from      = "exports@acme.example"
  from_name = "Acme data exports"
  sandbox   = false
  # The settings page of the integration, linked from the notices.
  dashboard_url = "https://app.acme.example/accounts/{accountId}/integrations/gcs/{destinationId}"
}

firestore = {
  location_id = "nam5"
}

monitoring = {
  runbook_url           = "https://git.acme.example/gcs-export/-/blob/main/docs/OPERATIONS.md"
  notification_channels = ["projects/acme-exports-prod/notificationChannels/1234567890"]
}
