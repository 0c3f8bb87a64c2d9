"""HTTP plumbing shared by the APIs, the portal and observability: which paths are whose,
security headers, request ids, and the caller behind a bearer token."""
