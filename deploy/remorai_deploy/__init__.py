"""Remorai's AWS deployment as code: one CDK stack (see docs/deploy.md)."""
