# Direct VPC egress: the functions take addresses in a dedicated subnet and send all traffic through the VPC. Google
# APIs (customers' buckets and Google's token endpoint included) are reached by Private Google Access, which Cloud
# NAT turns on for the ranges it serves: customers that filter their bucket by IP allow this network as a VPC source
# (output bucket_ip_filter). Everything else, SendGrid's API, leaves through Cloud NAT on reserved static addresses
# (output egress_ip_addresses).

resource "google_compute_network" "this" {
  project                 = var.project_id
  name                    = "gcs-export"
  auto_create_subnetworks = false

  depends_on = [google_project_service.this]
}

resource "google_compute_subnetwork" "functions" {
  project                  = var.project_id
  name                     = "gcs-export-functions"
  region                   = var.region
  network                  = google_compute_network.this.id
  ip_cidr_range            = var.network.subnet_cidr
  private_ip_google_access = true

  lifecycle {
    # Direct VPC egress takes about two addresses per instance (reserved in blocks as instances scale): the subnet
    # must hold that for every function at its max_instances at once (docs/OPERATIONS.md, "Capacity").
    precondition {
      condition     = local.subnet_usable_addresses >= local.subnet_addresses_needed
      error_message = "network.subnet_cidr holds ${local.subnet_usable_addresses} usable addresses; the functions' max_instances need ${local.subnet_addresses_needed} (two per instance). Use a larger range or lower max_instances."
    }
  }
}

locals {
  # Google Cloud keeps four addresses of every subnet range for itself.
  subnet_usable_addresses = pow(2, 32 - tonumber(split("/", var.network.subnet_cidr)[1])) - 4
  subnet_addresses_needed = 2 * sum([for f in values(var.functions) : f.max_instances])
}

resource "google_compute_address" "egress" {
  count        = var.network.egress_ip_count
  project      = var.project_id
  region       = var.region
  name         = "gcs-export-egress-${count.index}"
  address_type = "EXTERNAL"
  network_tier = "PREMIUM"
  labels       = local.labels

  # SendGrid's IP access management may allow-list these addresses: losing one would stop the notices.
  lifecycle {
    prevent_destroy = true
  }

  depends_on = [google_project_service.this]
}

resource "google_compute_router" "this" {
  project = var.project_id
  region  = var.region
  name    = "gcs-export"
  network = google_compute_network.this.id
}

resource "google_compute_router_nat" "this" {
  project                             = var.project_id
  region                              = var.region
  name                                = "gcs-export"
  router                              = google_compute_router.this.name
  nat_ip_allocate_option              = "MANUAL_ONLY"
  nat_ips                             = google_compute_address.egress[*].self_link
  source_subnetwork_ip_ranges_to_nat  = "LIST_OF_SUBNETWORKS"
  enable_dynamic_port_allocation      = true
  min_ports_per_vm                    = 64
  enable_endpoint_independent_mapping = false

  subnetwork {
    name                    = google_compute_subnetwork.functions.id
    source_ip_ranges_to_nat = ["ALL_IP_RANGES"]
  }

  log_config {
    enable = true
    filter = "ERRORS_ONLY"
  }
}
