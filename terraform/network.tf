# Direct VPC egress: the functions take addresses in a dedicated subnet and send all traffic through the VPC, where
# Cloud NAT translates it to reserved static addresses, the ones customers allow-list (output egress_ip_addresses).
# Google APIs (Cloud Storage included) are reached through Private Google Access instead, which Cloud NAT turns on
# for the ranges it serves: customers that filter their bucket by IP allow the VPC (output bucket_ip_filter).

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
}

resource "google_compute_address" "egress" {
  count        = var.network.egress_ip_count
  project      = var.project_id
  region       = var.region
  name         = "gcs-export-egress-${count.index}"
  address_type = "EXTERNAL"
  network_tier = "PREMIUM"
  labels       = local.labels

  # Customers allow-list these addresses: losing one breaks their exports.
  lifecycle {
    prevent_destroy = true
  }
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
