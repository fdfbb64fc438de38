"""The two local PostgreSQL instances (webapp and warehouse): clusters, TLS, provisioning."""
