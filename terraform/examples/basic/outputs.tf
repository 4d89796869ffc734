output "egress_ip_addresses" {
  description = "Addresses customers allow-list."
  value       = module.gcs_export.egress_ip_addresses
}

output "bucket_ip_filter" {
  description = "The VPC network source customers with bucket IP filtering allow."
  value       = module.gcs_export.bucket_ip_filter
}

output "api_url" {
  description = "The management API."
  value       = module.gcs_export.api_url
}

output "api_audience" {
  description = "The audience of the ID tokens the platform sends to the management API."
  value       = module.gcs_export.api_audience
}

output "topics" {
  description = "Topic ids; the platform publishes export requests to topics.requests."
  value       = module.gcs_export.topics
}
