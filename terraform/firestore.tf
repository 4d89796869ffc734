# Firestore: the database, the composite indexes the code's queries need and the TTL policies on old documents. Both
# tables mirror shared/adapters/gcp/firestore-schema.ts (FIRESTORE_COMPOSITE_INDEXES, FIRESTORE_TTL).

locals {
  # A query with one equality filter ordered by document id is served by the automatic single-field indexes; the
  # hourly check's queries filter on several fields and need these (shared/domain/queries.ts declares the same).
  firestore_composite_indexes = {
    exports_failing = {
      collection = "exports"
      fields = [
        { field_path = "status", order = "ASCENDING" },
        { field_path = "health.state", order = "ASCENDING" },
        { field_path = "__name__", order = "ASCENDING" },
      ]
    }
    runs_of_export = {
      collection = "runs"
      fields = [
        { field_path = "accountId", order = "ASCENDING" },
        { field_path = "exportId", order = "ASCENDING" },
        { field_path = "status", order = "ASCENDING" },
        { field_path = "__name__", order = "ASCENDING" },
      ]
    }
  }

  firestore_ttl = {
    field             = "expireAt"
    collection_groups = ["runs", "chunks", "observations", "files", "claims", "rejections", "idempotencyKeys"]
  }
}

resource "google_firestore_database" "this" {
  count                   = var.firestore.create ? 1 : 0
  project                 = var.project_id
  name                    = var.firestore.database_id
  location_id             = var.firestore.location_id
  type                    = "FIRESTORE_NATIVE"
  delete_protection_state = "DELETE_PROTECTION_ENABLED"
  deletion_policy         = "ABANDON"

  depends_on = [google_project_service.this]
}

resource "google_firestore_index" "composite" {
  for_each    = local.firestore_composite_indexes
  project     = var.project_id
  database    = var.firestore.database_id
  collection  = each.value.collection
  query_scope = "COLLECTION"

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path = fields.value.field_path
      order      = fields.value.order
    }
  }

  depends_on = [google_firestore_database.this]
}

# Firestore deletes a document once its expireAt (a Timestamp the adapter writes) has passed. The field is never
# queried, so it is left out of the single-field indexes: a monotonically rising indexed value is a write hotspot.
resource "google_firestore_field" "ttl" {
  for_each   = toset(local.firestore_ttl.collection_groups)
  project    = var.project_id
  database   = var.firestore.database_id
  collection = each.value
  field      = local.firestore_ttl.field

  ttl_config {}
  index_config {}

  depends_on = [google_firestore_database.this]
}
