"""The portal's HTTP API: sign-in with Ethereum, relayed writes, a chain index in SQL, documents, public lookups."""
