"""Running the service: backups and the audit log."""
