output "egress_ip_addresses" {
  description = "The NAT addresses of the traffic to SendGrid (not for customers: their buckets are reached by Private Google Access)."
  value       = module.gcs_export.egress_ip_addresses
}

output "bucket_ip_filter" {
  description = "What customers with bucket IP filtering add to the bucket's ipFilter: this VPC network, allowCrossOrgVpcs."
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
