"""Python client of the Battery Ledger contracts: build, deploy, sign, send, read."""
