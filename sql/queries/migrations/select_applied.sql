SELECT filename, checksum FROM schema_migrations ORDER BY filename;
