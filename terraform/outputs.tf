output "egress_ip_addresses" {
  description = "The reserved static addresses the functions' traffic to the internet leaves from, through Cloud NAT: SendGrid's API only (for SendGrid's IP access management). Google APIs, customers' buckets and Google's token endpoint included, are reached by Private Google Access and never use them."
  value       = google_compute_address.egress[*].address
}

output "bucket_ip_filter" {
  description = "What a customer whose bucket uses Cloud Storage IP filtering adds to the bucket's ipFilter (gcloud storage buckets update --ip-filter-file): this VPC network as a source, and allowCrossOrgVpcs, since the network is in another organization than the bucket. The API's own field names."
  value = {
    vpcNetworkSources = [{
      network             = "projects/${var.project_id}/global/networks/${google_compute_network.this.name}"
      allowedIpCidrRanges = [google_compute_subnetwork.functions.ip_cidr_range]
    }]
    allowCrossOrgVpcs = true
  }
}

output "api_url" {
  description = "The management API's URL (Cloud Run's); api_audience reaches the same function."
  value       = google_cloudfunctions2_function.this["api"].service_config[0].uri
}

output "api_audience" {
  description = "The audience of the ID tokens callers in api_invokers send (API_AUDIENCE): the function's cloudfunctions.net URL, which the function also answers at. Tokens for any other audience are refused."
  value       = local.api_audience
}

output "function_uris" {
  description = "Each function's URL, by entry point."
  value       = { for name, fn in google_cloudfunctions2_function.this : name => fn.service_config[0].uri }
}

output "topics" {
  description = "Topic ids by role; the platform publishes export requests to topics.requests."
  value       = { for key, topic in google_pubsub_topic.this : key => topic.id }
}

output "service_accounts" {
  description = "The functions' own service accounts, by entry point."
  value       = { for name, sa in google_service_account.function : name => sa.email }
}

output "quarantine_bucket" {
  description = "The platform's bucket of quarantined source lines."
  value       = google_storage_bucket.quarantine.name
}

output "dashboard_id" {
  description = "The operations dashboard."
  value       = google_monitoring_dashboard.operations.id
}

output "principals" {
  description = "Destinations without a key: the projects that hold one service account per customer account (quota: 100 service accounts per project unless raised; add projects to spread new accounts), the identity that creates them (roles/iam.serviceAccountCreator there, nothing else), and the functions that impersonate them (roles/iam.serviceAccountTokenCreator there)."
  value = {
    projects = var.principals_projects
    creator  = length(google_service_account.principal_creator) > 0 ? google_service_account.principal_creator[0].email : null
    impersonators = sort(distinct([
      for grant in local.principal_impersonation_grants : google_service_account.function[grant.function].email
    ]))
  }
}
