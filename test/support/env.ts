// Tests never reach for a real metadata server or real credentials.
process.env.METADATA_SERVER_DETECTION = 'none';
process.env.LOG_LEVEL ??= 'silent';
