output "egress_ip_addresses" {
  description = "The reserved static addresses all of the functions' traffic to the internet leaves from: what customers allow-list (product doc, IP whitelisting)."
  value       = google_compute_address.egress[*].address
}

output "bucket_ip_filter" {
  description = "Cloud Storage is reached through Private Google Access, not Cloud NAT: a customer bucket with IP filtering allows this VPC network source (vpcNetworkSources) as well as egress_ip_addresses."
  value = {
    network                = "projects/${var.project_id}/global/networks/${google_compute_network.this.name}"
    allowed_ip_ranges      = [google_compute_subnetwork.functions.ip_cidr_range]
    public_ip_ranges_cidrs = [for a in google_compute_address.egress : "${a.address}/32"]
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
